// Start-up's statements before and around migrations are not bounded (a migration's own may
// rightly take long, and knex runs its reads in the same batch), so a start held up by a lock
// another session holds, or by a database that stopped answering, says so rather than waiting
// silently: each step that takes over a few seconds is named once in the log.

/** How long a start-up step, the migration lock's wait included, runs before it is named in the log. */
export const STEP_NOTICE_MS = 3000;

/** `work`, calling `notice` once if it has not settled within `noticeMs`. */
export async function noticedStep<T>(work: () => Promise<T>, notice: () => void, noticeMs = STEP_NOTICE_MS): Promise<T> {
  const timer = setTimeout(notice, noticeMs);
  try {
    return await work();
  } finally {
    clearTimeout(timer);
  }
}
