/** FN_LISTENER as containers see it: the socket directory is mounted at /tmp/iofs. */
export const IOFS_LISTENER = 'unix:/tmp/iofs/lsnr.sock';
