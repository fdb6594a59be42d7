// The part of the `proxy-addr` package (CommonJS, no bundled types; Express's own req.ip) Kiln uses.
declare module 'proxy-addr' {
  import type { IncomingMessage } from 'node:http';
  /** Whether the hop at `addr`, `i` hops from the server, is a proxy to believe. */
  type Trust = (addr: string, i: number) => boolean;
  const proxyaddr: {
    /** The caller's address: the right-most X-Forwarded-For entry not from a trusted hop, else the socket's. */
    (req: IncomingMessage, trust: Trust): string;
    /** The socket's address, then X-Forwarded-For's right to left, cut after the first not trusted. */
    all(req: IncomingMessage, trust?: Trust): string[];
    /** A trust function of addresses, subnets and the names loopback, linklocal, uniquelocal; throws TypeError on a bad one. */
    compile(val: string | string[]): Trust;
  };
  export default proxyaddr;
}
