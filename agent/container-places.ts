// Where a new container goes: the CPU a small Lambda sandbox is pinned to (agent/cpu-placement.ts)
// and the network a fn that asks for none is spread to (FN_DOCKER_NETWORKS, as Fn's
// pickNetwork), each the least used; given back once, when the container goes. The agent holds
// one; it owns the starts, this only the choice and the counts.
import type { Logger } from 'pino';
import { DriverError } from '../drivers/errors.js';
import { lambdaPlacement, pinsToOneCpu, type CpuPlacement } from './cpu-placement.js';
import { LeastUsed } from './least-used.js';

/** What one start took: a CPU to pin to, a network to join; each given back once. */
export interface Taken {
  cpu?: number;
  network?: string;
}

/** What a start asks for, as far as placing it goes. */
export interface PlaceRequest {
  lambda: boolean;
  memoryMb: number;
  /** The fn's own network, if it asked for one (then it is not spread). */
  network: string | undefined;
}

export interface PlacesOptions {
  /** KILN_LAMBDA_CPUS; fewer than two CPUs (or unset): no pinning. */
  cpus: number[] | undefined;
  /** KILN_LAMBDA_CPUS_SHARED: count the containers other nodes on the engine pinned. */
  cpusShared: boolean;
  /** Those containers' CPUs (bounded by the caller: a hung engine must not hold the start). */
  pinnedElsewhere: () => Promise<number[]>;
  /** FN_DOCKER_NETWORKS. */
  networks: readonly string[];
  log: Logger;
}

/** Docker refused a container's cpuset (a CPU it does not have, a list it cannot read), not something else. */
export function cpusetRefused(err: unknown): boolean {
  if (!(err instanceof DriverError)) return false;
  // The engine's own words: the driver's message also names the image, which could say anything.
  const detail = err.cause instanceof Error ? err.cause.message : err.message;
  return /cpuset|Requested CPUs are not available/i.test(detail);
}

export class ContainerPlaces {
  /** Undefined when pinning is off, or once Docker refused it. */
  private cpus: CpuPlacement | undefined;
  private readonly networks: LeastUsed<string> | undefined;
  /** What each placed container holds; deleted when given back, so it is given back once. */
  private readonly held = new WeakMap<object, Taken>();

  constructor(private readonly opts: PlacesOptions) {
    this.cpus = lambdaPlacement(opts.cpus);
    this.networks = opts.networks.length > 0 ? new LeastUsed(opts.networks, 'network') : undefined;
  }

  /**
   * A place for a new container. Lambda gives a sandbox of this size one vCPU: it is pinned to
   * the least used CPU, counting other nodes' containers on this engine too when they share it.
   */
  async take(r: PlaceRequest): Promise<Taken> {
    const pinned = r.lambda && pinsToOneCpu(r.memoryMb) && this.cpus !== undefined;
    const elsewhere = pinned && this.opts.cpusShared ? await this.opts.pinnedElsewhere() : [];
    // Taken after the wait: pinning may have gone off meanwhile.
    const cpu = pinned ? this.cpus?.take(elsewhere) : undefined;
    const network = r.network === undefined ? this.networks?.take() : undefined;
    return { ...(cpu !== undefined && { cpu }), ...(network !== undefined && { network }) };
  }

  /** A start that did not happen gives back what it took. */
  release(t: Taken): void {
    if (t.cpu !== undefined) this.cpus?.give(t.cpu);
    if (t.network !== undefined) this.networks?.give(t.network);
  }

  /** The container started holds what its start took, until giveBack. */
  hold(container: object, t: Taken): void {
    if (t.cpu !== undefined || t.network !== undefined) this.held.set(container, t);
  }

  /** The container is gone: its CPU and network are free for the next one (once). */
  giveBack(container: object): void {
    const t = this.held.get(container);
    if (!t) return;
    this.held.delete(container);
    this.release(t);
  }

  /**
   * Docker refused to pin to `cpu`: pinning goes off until restart (said once, as concurrent
   * starts refused alike find it off already), and the start goes on unpinned.
   */
  pinningRefused(err: unknown, cpu: number): void {
    if (!this.cpus) return;
    this.opts.log.warn(
      { err, cpu, cpus: this.cpus.cpus },
      'Docker refused to pin a Lambda container to one CPU: pinning is off until restart (check KILN_LAMBDA_CPUS)',
    );
    this.cpus = undefined;
  }
}
