// Driver failures (as opposed to a task's own failure, which is a RunResult).

/** The image is neither present locally nor pullable. */
export class ImageNotFoundError extends Error {
  constructor(readonly image: string, detail: string) {
    super(
      `image "${image}" is not available: ${detail}. ` +
        'Build it locally (no registry is needed), e.g. `docker build -t ' + image + ' <dir>`',
    );
    this.name = 'ImageNotFoundError';
  }
}

/** The container engine failed (unreachable, out of disk, ...). */
export class DriverError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DriverError';
  }
}

/**
 * The engine could not start a container because its log destination (the app's syslog_url)
 * failed: the fn's configuration, not the engine, is at fault.
 */
export class LogDestinationError extends DriverError {
  constructor(detail: string, options?: { cause?: unknown }) {
    super(`container failed to start: the app's syslog_url cannot be used: ${detail}`, options);
    this.name = 'LogDestinationError';
  }
}
