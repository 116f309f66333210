/**
 * What the fleet serves: pods from discovery, each asked for its `/v1/models` (the base model and
 * any LoRA adapters, as vLLM lists them) every `refreshMs`. A pod whose models endpoint does not
 * answer is not a candidate until it answers again, so a dead pod stops getting traffic within
 * one refresh (sooner when the forwarder reports a failed connection).
 */
import { hostPort, type DiscoveredPod, type PodChange, type PodSource } from '@kvr/discovery';
import type { Logger } from '@kvr/telemetry';

export interface ServedModel {
  readonly id: string;
  /** The base model of a LoRA adapter; null for a base model. */
  readonly parent: string | null;
}

interface PodState {
  readonly pod: DiscoveredPod;
  readonly baseUrl: string;
  models: ServedModel[];
  answering: boolean;
  timer: NodeJS.Timeout | undefined;
  inFlight: boolean;
}

/** Candidates for a request: pods serving the model, in pod-id order (the same in every replica). */
export interface Candidates {
  readonly pods: readonly DiscoveredPod[];
  /** Model whose tokenizer and block keys apply (the base model of an adapter). */
  readonly baseModel: string;
  /** LoRA adapter name when the request names one. */
  readonly loraName: string | null;
}

export function podBaseUrl(pod: DiscoveredPod): string {
  return `http://${hostPort(pod.address, pod.httpPort)}`;
}

export class PodCatalog {
  private readonly pods = new Map<string, PodState>();
  private stopped = false;
  private sourceStarted = false;

  constructor(
    private readonly source: PodSource,
    private readonly logger: Logger,
    private readonly refreshMs: number,
    private readonly timeoutMs = 2_000,
  ) {}

  /** Starts discovery and waits for the first answer of every initial pod (bounded by the timeout). */
  async start(): Promise<void> {
    await this.source.start((change) => this.onChange(change));
    this.sourceStarted = true;
    await Promise.all([...this.pods.values()].map((state) => this.refresh(state)));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const state of this.pods.values()) clearTimeout(state.timer);
    await this.source.stop();
  }

  /** null: no pod serves the model at all (404); else its candidates, possibly none answering (503). */
  candidatesFor(model: string): Candidates | null {
    let served: ServedModel | undefined;
    const pods: DiscoveredPod[] = [];
    let known = false;
    for (const state of this.pods.values()) {
      const match = state.models.find((m) => m.id === model) ?? (state.models.length === 0 && state.pod.model === model ? { id: model, parent: null } : undefined);
      if (!match) continue;
      known = true;
      served ??= match;
      if (state.answering) pods.push(state.pod);
    }
    if (!known || !served) return null;
    pods.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return { pods, baseModel: served.parent ?? model, loraName: served.parent ? model : null };
  }

  /** Every model some answering pod serves, for `GET /v1/models`. */
  models(): ServedModel[] {
    const byId = new Map<string, ServedModel>();
    for (const state of this.pods.values()) {
      if (!state.answering) continue;
      for (const model of state.models) if (!byId.has(model.id)) byId.set(model.id, model);
    }
    return [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  stats(): { known: number; answering: number } {
    let answering = 0;
    for (const state of this.pods.values()) if (state.answering) answering++;
    return { known: this.pods.size, answering };
  }

  /** The forwarder could not connect: stop sending it requests until its models endpoint answers again. */
  reportUnreachable(podId: string): void {
    const state = this.pods.get(podId);
    if (!state || !state.answering) return;
    state.answering = false;
    this.logger.warn({ pod: podId }, 'pod unreachable; not a candidate until /v1/models answers again');
    clearTimeout(state.timer);
    this.schedule(state, Math.min(this.refreshMs, 250));
  }

  private onChange(change: PodChange): void {
    const existing = this.pods.get(change.pod.id);
    if (change.type === 'removed') {
      if (existing) clearTimeout(existing.timer);
      this.pods.delete(change.pod.id);
      this.logger.info({ pod: change.pod.id }, 'pod removed');
      return;
    }
    if (existing) clearTimeout(existing.timer);
    const state: PodState = { pod: change.pod, baseUrl: podBaseUrl(change.pod), models: [], answering: false, timer: undefined, inFlight: false };
    this.pods.set(change.pod.id, state);
    this.logger.info({ pod: change.pod.id, url: state.baseUrl }, 'pod added');
    // Pods added after start are asked at once; the initial ones by start() itself.
    if (this.sourceStarted) void this.refresh(state);
  }

  private schedule(state: PodState, delayMs: number): void {
    // One timer per pod: a new schedule replaces a pending one, so a pod is never polled on two chains.
    clearTimeout(state.timer);
    if (this.stopped || this.pods.get(state.pod.id) !== state) return;
    state.timer = setTimeout(() => void this.refresh(state), delayMs);
    state.timer.unref();
  }

  private async refresh(state: PodState): Promise<void> {
    if (state.inFlight) return;
    state.inFlight = true;
    try {
      const response = await fetch(`${state.baseUrl}/v1/models`, { signal: AbortSignal.timeout(this.timeoutMs) });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const list = (await response.json()) as { data?: { id?: unknown; parent?: unknown }[] };
      const models = (list.data ?? [])
        .filter((m): m is { id: string; parent?: unknown } => typeof m.id === 'string')
        .map((m) => ({ id: m.id, parent: typeof m.parent === 'string' && m.parent !== m.id ? m.parent : null }));
      if (!state.answering) this.logger.info({ pod: state.pod.id, models: models.map((m) => m.id) }, 'pod answering');
      state.models = models;
      state.answering = true;
    } catch (err) {
      if (state.answering) this.logger.warn({ pod: state.pod.id, err: err instanceof Error ? err.message : String(err) }, 'pod /v1/models failed; not a candidate');
      state.answering = false;
    } finally {
      state.inFlight = false;
      this.schedule(state, state.answering ? this.refreshMs : Math.min(this.refreshMs, 1_000));
    }
  }
}
