// Reads runc's refusal of a container limit, so it names the server setting behind it: an
// out-of-range FN_MAX_* reads "error setting rlimit type 7: operation not permitted" otherwise.
import type Docker from 'dockerode';
import { ContainerLimitError } from '../errors.js';

/** Linux's RLIMIT_* numbers (as runc says them) for the ulimits Kiln sets, with their settings. */
const RLIMITS: Record<number, { ulimit: string; setting: string }> = {
  7: { ulimit: 'nofile', setting: 'FN_MAX_OPEN_FILES' },
  8: { ulimit: 'memlock', setting: 'FN_MAX_LOCKED_MEMORY' },
  11: { ulimit: 'sigpending', setting: 'FN_MAX_PENDING_SIGNALS' },
  12: { ulimit: 'msgqueue', setting: 'FN_MAX_MESSAGE_QUEUE' },
};

const HINT = 'lower it (at most the engine\'s own limit, and for nofile the kernel\'s fs.nr_open), or set 0 for the engine\'s default';

/** A ContainerLimitError for a start the engine failed over a limit Kiln set; undefined for any other failure. */
export function limitRefusal(detail: string, options: Docker.ContainerCreateOptions, cause: unknown): ContainerLimitError | undefined {
  const rlimit = /error setting rlimit type (\d+)[^"\n]*?: ([a-z ]+)/i.exec(detail);
  if (rlimit) {
    const known = RLIMITS[Number(rlimit[1])];
    const given = options.HostConfig?.Ulimits?.find((u) => u.Name === known?.ulimit)?.Hard;
    const what = known ? `${known.setting} (${known.ulimit} ${given ?? '?'})` : `a ulimit (rlimit type ${rlimit[1]})`;
    return new ContainerLimitError(known?.setting ?? 'FN_MAX_*', `container failed to start: the container engine cannot set ${what}: ${HINT} (${rlimit[0]})`, { cause });
  }
  // The pids controller takes at most the kernel's PID_MAX_LIMIT: "failed to write "5000000": ... pids.max: invalid argument".
  const pids = /failed to write "?(\d+)"?: [^\n]*pids\.max: ([a-z ]+)/i.exec(detail);
  if (pids) {
    return new ContainerLimitError('FN_MAX_PIDS', `container failed to start: the container engine cannot set FN_MAX_PIDS (pids.max ${pids[1]}): lower it (at most 4194304), or set 0 for no limit (writing pids.max: ${pids[2]})`, { cause });
  }
  return undefined;
}
