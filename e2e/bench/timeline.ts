/**
 * The critical path of one `kur create cluster`, for the cluster benchmark: when each of kur's
 * top-level phases started and ended, and what Kubernetes itself recorded (node registered and
 * Ready; each pod created, scheduled, started and Ready), all as seconds after the create began.
 * A regression then says where it happened, not only that the total grew.
 *
 * kur's phases come from `-o json` timings (durations; top-level phases run one after another,
 * so their starts add up from the first). Kubernetes' times come from the API objects, read in
 * the control-plane node right after create returns; they have one-second resolution, and the
 * node shares the host's clock.
 */

export interface TimelineEvent {
  /** Seconds after the create's first phase began. */
  at: number;
  what: string;
}

interface Condition {
  type: string;
  status: string;
  lastTransitionTime?: string;
}

interface KubeObject {
  kind: string;
  metadata: { name: string; namespace?: string; creationTimestamp?: string };
  spec?: { nodeName?: string };
  status?: {
    conditions?: Condition[];
    startTime?: string;
    containerStatuses?: { name: string; state?: { running?: { startedAt?: string } } }[];
  };
}

/**
 * `[{phase, ms}]` of `kur -o json create cluster` as top-level phases with start and end offsets
 * (s). The children of a step in `concurrent` (titles) all start when it starts, so they are
 * shown too: which of the phases run at once took longest is part of the critical path.
 */
export function phaseEvents(
  timings: readonly { phase: string; ms: number }[],
  concurrent: readonly string[] = [],
): TimelineEvent[] {
  const events: TimelineEvent[] = [];
  const starts = new Map<string, number>();
  let at = 0;
  // Children finish (and are listed) before their parent: place the top level first.
  for (const t of timings) {
    if (t.phase.includes(' > ')) continue;
    starts.set(t.phase, at);
    events.push({ at: round(at), what: `kur: ${t.phase} starts` });
    at += t.ms / 1000;
    events.push({ at: round(at), what: `kur: ${t.phase} ends` });
  }
  for (const t of timings) {
    const parts = t.phase.split(' > ');
    const start = starts.get(parts[0]!);
    if (parts.length !== 2 || !concurrent.includes(parts[0]!) || start === undefined) continue;
    events.push({ at: round(start), what: `kur: ${t.phase} starts` });
    events.push({ at: round(start + t.ms / 1000), what: `kur: ${t.phase} ends` });
  }
  return events;
}

/**
 * Kubernetes' own timestamps from `kubectl get nodes,pods -A -o json`, relative to `startEpochMs`
 * (the moment kur's first phase began). Pod names lose their generated suffix and `cluster`'s
 * name, so runs of different clusters line up.
 */
export function kubernetesEvents(listJson: string, startEpochMs: number, cluster: string): TimelineEvent[] {
  const list = JSON.parse(listJson) as { items: KubeObject[] };
  const events: TimelineEvent[] = [];
  const seen = new Map<string, number>();
  const add = (time: string | undefined, what: string): void => {
    if (time === undefined) return;
    const ms = Date.parse(time);
    if (Number.isNaN(ms)) return;
    // Replicas on one node (CoreDNS's two) share a name: number the later ones.
    const count = (seen.get(what) ?? 0) + 1;
    seen.set(what, count);
    events.push({ at: round((ms - startEpochMs) / 1000), what: count === 1 ? what : `${what} #${count}` });
  };
  const condition = (o: KubeObject, type: string): string | undefined => {
    const c = o.status?.conditions?.find((x) => x.type === type && x.status === 'True');
    return c?.lastTransitionTime;
  };
  for (const item of list.items) {
    const name = shortName(item.metadata.name, cluster);
    if (item.kind === 'Node') {
      add(item.metadata.creationTimestamp, `node ${name} registered`);
      add(condition(item, 'Ready'), `node ${name} Ready`);
      continue;
    }
    const node = item.spec?.nodeName;
    // DaemonSet pods (one per node) share a short name: the node tells them apart.
    const where = node === undefined || name.includes('<cluster>') ? '' : ` on ${shortName(node, cluster)}`;
    const pod = `pod ${item.metadata.namespace ?? ''}/${name}${where}`;
    add(item.metadata.creationTimestamp, `${pod} created`);
    add(condition(item, 'PodScheduled'), `${pod} scheduled`);
    const started = (item.status?.containerStatuses ?? [])
      .map((c) => c.state?.running?.startedAt)
      .filter((t): t is string => t !== undefined)
      .sort()[0];
    add(started, `${pod} container started`);
    add(condition(item, 'Ready'), `${pod} Ready`);
  }
  return events;
}

/** Pod and node names without the cluster name and generated suffixes: `coredns-7d4f-x2x9z` -> `coredns`. */
export function shortName(name: string, cluster: string): string {
  const short = name.replaceAll(cluster, '<cluster>');
  // Node names and static pods (named after their node) have no generated suffix.
  if (short.includes('<cluster>')) return short;
  // Deployment pods: <name>-<replicaset hash>-<5 chars>; DaemonSet pods: <name>-<5 chars>.
  return short.replace(/-[a-z0-9]{8,10}-[a-z0-9]{5}$/, '').replace(/-[a-z0-9]{5}$/, '');
}

/** Merges and sorts; several pods of one kind (one per node) keep their own lines. */
export function timeline(...parts: TimelineEvent[][]): TimelineEvent[] {
  // A stable sort: equal times keep their order (a phase starts before it ends).
  return parts.flat().sort((a, b) => a.at - b.at);
}

function round(seconds: number): number {
  return Math.round(seconds * 10) / 10;
}
