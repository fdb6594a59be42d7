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
 * The engine could not start a container for something the fn's or the server's configuration
 * names: trying again will not help until that changes (a 502, not a busy engine's 503).
 */
export class ContainerConfigError extends DriverError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ContainerConfigError';
  }
}

/** The engine refused to create the container as configured (say, memory under its minimum). */
export class ContainerRefusedError extends ContainerConfigError {
  constructor(memoryMb: number, detail: string, options?: { cause?: unknown }) {
    const memory = /memory/i.test(detail) ? ` (the fn's memory is ${memoryMb} MB)` : '';
    super(`container failed to start: the container engine refused its configuration: ${detail}${memory}`, options);
    this.name = 'ContainerRefusedError';
  }
}

/** The image has neither ENTRYPOINT nor CMD, so the engine has nothing to start. */
export class NoCommandError extends ContainerConfigError {
  constructor(readonly image: string, options?: { cause?: unknown }) {
    super(
      `container failed to start: image "${image}" has no ENTRYPOINT or CMD, so there is nothing to run: ` +
        'give the image an ENTRYPOINT or CMD that starts the function (with an FDK, listening on FN_LISTENER)',
      options,
    );
    this.name = 'NoCommandError';
  }
}

/** The log destination (the app's syslog_url) failed. */
export class LogDestinationError extends ContainerConfigError {
  constructor(detail: string, options?: { cause?: unknown }) {
    super(`container failed to start: the app's syslog_url cannot be used: ${detail}`, options);
    this.name = 'LogDestinationError';
  }
}

/** The network the container is to join is not on the engine. */
export class NetworkNotFoundError extends ContainerConfigError {
  constructor(readonly network: string, options?: { cause?: unknown }) {
    super(
      `container failed to start: network "${network}" is not on the container engine (named by the fn's or its app's ` +
        `kiln.io/network annotation, or FN_DOCKER_NETWORKS): create it (\`docker network create ${network}\`) or name another`,
      options,
    );
    this.name = 'NetworkNotFoundError';
  }
}

/**
 * The engine's runtime could not apply a server-wide container limit (a FN_MAX_* setting past
 * what its kernel or its own limits allow): every start fails alike until the setting changes.
 */
export class ContainerLimitError extends ContainerConfigError {
  constructor(readonly setting: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ContainerLimitError';
  }
}
