/**
 * The deployment-wide warehouse cap at no cost per date: this worker process leases a share of the
 * cap from the warehouse-slots workflow and hands its slots out to its own activities locally.
 *
 * The per-date protocol (temporal-slots.ts) sent an update to take a slot and a signal to give it
 * back for every date: two Temporal round trips and a dozen history events per date, on the
 * critical path. Here a date takes a slot from a local counter; the process talks to the slots
 * workflow only when it needs more slots than it holds, when it has slots to spare, and to renew
 * its lease every third of SLOT_LEASE_MS.
 *
 * - **The cap holds across processes**: the workflow grants shares whose sum never exceeds the cap;
 *   once processes together want more than the cap, each is told its fair share (its target) and
 *   gives back what it holds above it as its slots free up (src/shared/slot-shares.ts).
 * - **Prompt recovery**: a killed process stops renewing and its share lapses within one lease,
 *   about when the heartbeat time-out hands its dates to another worker. A process that cannot
 *   renew for a whole lease stops handing out slots until it can.
 * - **Idempotent messages**: grants and returns are cumulative counts within a lease, so a lost,
 *   repeated or late message is made good by the next one and can never free a slot twice.
 * - One request in flight per process (it waits at the workflow until a slot frees, up to a third
 *   of the lease), so the server's limit on updates in flight per workflow (10) allows ten processes.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { WithStartWorkflowOperation, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { emptyReport, mergeReports, type LimitChange, type WarehouseHealthReport } from '../shared/adaptive-limit';
import {
  SLOT_LEASE_MS,
  leaseSlotsUpdate,
  returnSlotsSignal,
  warehouseHealthSignal,
  type SlotLeaseReply,
  type SlotLeaseRequest,
} from '../shared/messages';
import type { warehouseSlotsWorkflow } from '../workflows/warehouse-slots';
import { slotsWorkflowId } from './temporal-slots';
import type { ReleaseSlot, SlotOutcome, WarehouseSlots } from './warehouse-slots';

/** How long slots nobody here uses are kept before they go back (the next date usually follows within ms). */
export const SLOT_LINGER_MS = 1_000;
const MAX_RETRY_DELAY_MS = 1_000;
/** Transient errors are reported this soon (batched), so the whole deployment backs off together. */
const ERROR_REPORT_DELAY_MS = 250;
/**
 * Healthy operations are reported after a round of them (as many as the admitted limit), at most
 * this often, so the limit can grow and slowness be seen without a message per date.
 */
export const HEALTH_REPORT_EVERY_MS = 2_000;

/** The deployment-wide admitted limit as this process last heard it. */
export interface AdmittedLimit {
  limit: number;
  ceiling: number;
  lastChange?: LimitChange;
}

interface Waiter {
  grant: (release: ReleaseSlot) => void;
  fail: (err: Error) => void;
}

export interface LeasedWarehouseSlotsOptions {
  /** Names this process at the slots workflow (host, pid and a random suffix by default). */
  processName?: string;
  lingerMs?: number;
  /** Adaptive load between `floor` and the cap (on by default, floor 1). */
  adaptive?: { enabled: boolean; floor: number };
  /** Called when the admitted limit changes (the worker's metrics). */
  onLimit?: (limit: AdmittedLimit) => void;
}

export class LeasedWarehouseSlots implements WarehouseSlots {
  private readonly processName: string;
  private readonly lingerMs: number;
  private leaseId: string | undefined;
  private grantedTotal = 0;
  private returnedTotal = 0;
  /** The most this process may hold (learnt from the workflow; 0 until the first reply). */
  private target = 0;
  private leaseMs = SLOT_LEASE_MS;
  /** When the latest reply's request was sent: the lease runs at least from then. */
  private renewedAtMs = -Infinity;
  private inUseCount = 0;
  private readonly waiters: Waiter[] = [];
  private asking = false;
  /** The want the workflow last heard from us (request or return), and a want signal under way. */
  private toldWant = 0;
  private tellingWant = false;
  private renewTimer: NodeJS.Timeout | undefined;
  private lingerTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** What this process saw of the warehouse since its last report. */
  private report: WarehouseHealthReport = emptyReport();
  private errorReportTimer: NodeJS.Timeout | undefined;
  private lastReportAtMs = 0;
  private readonly adaptive: { enabled: boolean; floor: number };
  private readonly onLimit: ((limit: AdmittedLimit) => void) | undefined;
  private admitted: AdmittedLimit | undefined;

  constructor(
    private readonly client: Client,
    /** The task queue the slots workflow runs on (every worker process polls it). */
    private readonly slotsTaskQueue: string,
    /** Identity of the warehouse being protected, e.g. duckdb:/abs/path or bigquery:project. */
    private readonly warehouseKey: string,
    private readonly capacity: number,
    options: LeasedWarehouseSlotsOptions = {},
  ) {
    this.processName = options.processName ?? `${os.hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
    this.lingerMs = options.lingerMs ?? SLOT_LINGER_MS;
    this.adaptive = options.adaptive ?? { enabled: true, floor: 1 };
    this.onLimit = options.onLimit;
  }

  private sentRequests = 0;
  /** Numbers every message that tells the workflow our want, so it can drop one that arrives late. */
  private wantSeq = 0;

  /** Lease requests sent so far (the bench and tests count the round trips). */
  get requestsSent(): number {
    return this.sentRequests;
  }

  /** The deployment-wide admitted limit as of the latest reply (undefined before the first). */
  admittedLimit(): AdmittedLimit | undefined {
    return this.admitted;
  }

  inUse(): number {
    return this.inUseCount;
  }

  /** Slots this process's lease holds now (in use or kept for the next date). */
  held(): number {
    return this.grantedTotal - this.returnedTotal;
  }

  acquire(_holder: string, signal?: AbortSignal): Promise<ReleaseSlot> {
    if (this.closed) return Promise.reject(new Error('warehouse slots are closed: the worker is stopping'));
    if (this.waiters.length === 0 && this.inUseCount < this.usable()) return Promise.resolve(this.take());
    return new Promise<ReleaseSlot>((resolve, reject) => {
      const waiter: Waiter = {
        grant: (release) => {
          signal?.removeEventListener('abort', abort);
          resolve(release);
        },
        fail: (err) => {
          signal?.removeEventListener('abort', abort);
          reject(err);
        },
      };
      const abort = (): void => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
        this.settle();
      };
      if (signal?.aborted) return abort();
      signal?.addEventListener('abort', abort, { once: true });
      this.waiters.push(waiter);
      if (this.asking) this.tellWant();
      else void this.ask();
    });
  }

  /** Gives back every slot this process holds, so the next worker need not wait for the lease to lapse. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.renewTimer);
    clearTimeout(this.lingerTimer);
    clearTimeout(this.errorReportTimer);
    for (const w of this.waiters.splice(0)) w.fail(new Error('warehouse slots are closed: the worker is stopping'));
    const spare = this.held() - this.inUseCount;
    if (spare > 0) await this.giveBack(spare);
  }

  /** Slots that may be handed out: none while the lease may have lapsed unnoticed. */
  private usable(): number {
    if (Date.now() - this.renewedAtMs >= this.leaseMs) return 0;
    return Math.min(this.held(), this.target);
  }

  private take(): ReleaseSlot {
    this.inUseCount += 1;
    let released = false;
    return (outcome?: SlotOutcome) => {
      if (released) return Promise.resolve();
      released = true;
      if (outcome) this.observe(outcome);
      this.inUseCount -= 1;
      this.dispatch();
      this.settle();
      return Promise.resolve();
    };
  }

  private observe(outcome: SlotOutcome): void {
    if (outcome.failed && !outcome.transient) return;
    const seen: WarehouseHealthReport = outcome.transient
      ? { ops: 1, transientErrors: 1, latency: {}, ...(outcome.error ? { lastErrorType: outcome.error } : {}) }
      : { ops: 1, transientErrors: 0, latency: { [outcome.kind]: { n: 1, totalMs: outcome.ms } } };
    this.report = mergeReports(this.report, seen);
    if (this.closed) return;
    if (outcome.transient && !this.errorReportTimer) {
      this.errorReportTimer = setTimeout(() => {
        this.errorReportTimer = undefined;
        this.sendReport();
      }, ERROR_REPORT_DELAY_MS);
      this.errorReportTimer.unref();
    } else if (this.report.ops >= (this.admitted?.limit ?? 1) && Date.now() - this.lastReportAtMs >= HEALTH_REPORT_EVERY_MS) {
      this.sendReport();
    }
  }

  private sendReport(): void {
    const report = this.takeReport();
    if (!report) return;
    const handle = this.client.workflow.getHandle(slotsWorkflowId(this.warehouseKey));
    handle.signal(warehouseHealthSignal, { process: this.processName, report }).catch(() => (this.report = mergeReports(report, this.report)));
  }

  /** The report so far, now handed over (undefined when there is nothing to say). */
  private takeReport(): WarehouseHealthReport | undefined {
    if (this.report.ops === 0) return undefined;
    this.lastReportAtMs = Date.now();
    const report = this.report;
    this.report = emptyReport();
    return report;
  }

  private dispatch(): void {
    while (this.waiters.length > 0 && this.inUseCount < this.usable()) this.waiters.shift()?.grant(this.take());
  }

  /** Gives back at once what is held above the share; what nobody here needs, after lingering a moment. */
  private settle(): void {
    const aboveTarget = this.held() - Math.max(this.inUseCount, this.target);
    if (aboveTarget > 0) void this.giveBack(aboveTarget);
    if (this.held() - this.inUseCount - this.waiters.length > 0 && !this.lingerTimer) {
      this.lingerTimer = setTimeout(() => {
        this.lingerTimer = undefined;
        const idle = this.held() - this.inUseCount - this.waiters.length;
        if (idle > 0) void this.giveBack(idle);
      }, this.lingerMs);
      this.lingerTimer.unref();
    }
    this.syncRenewal();
  }

  /**
   * Our one request is parked at the workflow (waiting for a slot, or just renewing), with the want
   * it was sent with. When dates here need slots the workflow could grant (we hold less than our
   * share) and it does not know, say so now: the parked request then returns with the grant
   * instead of at its deadline. Without this, slots given back between two phases (want 0) left the
   * next phase waiting seconds for the renewal to come back.
   */
  private tellWant(): void {
    if (this.tellingWant) return;
    this.tellingWant = true;
    // On the next turn of the event loop, so a burst of dates is told in one signal.
    setImmediate(() => {
      const want = this.inUseCount + this.waiters.length;
      if (!this.leaseId || this.closed || !this.asking || want <= this.toldWant || this.held() >= this.target) {
        this.tellingWant = false;
        return;
      }
      this.toldWant = want;
      const message = { process: this.processName, leaseId: this.leaseId, returnedTotal: this.returnedTotal, want, wantSeq: ++this.wantSeq };
      void this.client.workflow
        .getHandle(slotsWorkflowId(this.warehouseKey))
        .signal(returnSlotsSignal, message)
        .catch(() => undefined)
        .finally(() => {
          this.tellingWant = false;
          // More dates came while it was on its way.
          if (this.asking && this.waiters.length > 0) this.tellWant();
        });
    });
  }

  private async giveBack(n: number): Promise<void> {
    if (!this.leaseId || n <= 0) return;
    this.returnedTotal += n;
    const report = this.takeReport();
    const message = {
      process: this.processName,
      leaseId: this.leaseId,
      returnedTotal: this.returnedTotal,
      want: this.inUseCount + this.waiters.length,
      wantSeq: ++this.wantSeq,
      ...(report ? { report } : {}),
    };
    this.toldWant = message.want;
    // Lost? The next lease request carries the same cumulative count (and the report goes with it).
    await this.client.workflow
      .getHandle(slotsWorkflowId(this.warehouseKey))
      .signal(returnSlotsSignal, message)
      .catch(() => {
        if (report) this.report = mergeReports(report, this.report);
      });
  }

  /** Renews the lease every third of it while this process holds slots or waits for them. */
  private syncRenewal(): void {
    const active = !this.closed && (this.held() > 0 || this.inUseCount > 0 || this.waiters.length > 0);
    if (!active) {
      clearInterval(this.renewTimer);
      this.renewTimer = undefined;
      return;
    }
    if (this.renewTimer) return;
    this.renewTimer = setInterval(() => void this.ask(), Math.max(1_000, Math.floor(this.leaseMs / 3)));
    this.renewTimer.unref();
  }

  /** One request at a time: asks for what the waiters need (or just renews), until none wait. */
  private async ask(): Promise<void> {
    if (this.asking || this.closed) return;
    this.asking = true;
    try {
      for (let attempt = 0; ; ) {
        const sentAt = Date.now();
        const before = { granted: this.grantedTotal, target: this.target };
        const report = this.takeReport();
        try {
          this.apply(await this.request(report), sentAt);
          attempt = 0;
        } catch (err) {
          if (report) this.report = mergeReports(report, this.report);
          // The workflow refused the request itself (its validator): asking again cannot help.
          if (err instanceof WorkflowUpdateFailedError) {
            for (const w of this.waiters.splice(0)) w.fail(err);
            return;
          }
          // Rolling over, the server restarting, too many updates in flight: ask again.
          attempt += 1;
          await sleep(Math.min(MAX_RETRY_DELAY_MS, 50 * attempt));
        }
        this.dispatch();
        this.settle();
        if (this.waiters.length === 0 || this.closed) return;
        // A reply with nothing new (the workflow is rolling over): do not spin.
        if (this.grantedTotal === before.granted && this.target === before.target && Date.now() - sentAt < 50) await sleep(100);
      }
    } finally {
      this.asking = false;
    }
  }

  private request(report: WarehouseHealthReport | undefined): Promise<SlotLeaseReply> {
    const workflowId = slotsWorkflowId(this.warehouseKey);
    const startWorkflowOperation = new WithStartWorkflowOperation<typeof warehouseSlotsWorkflow>('warehouseSlotsWorkflow', {
      workflowId,
      taskQueue: this.slotsTaskQueue,
      args: [{ capacity: this.capacity }],
      workflowIdConflictPolicy: 'USE_EXISTING',
      staticSummary: `At most ${this.capacity} warehouse operations in flight on ${this.warehouseKey}`,
    });
    const request: SlotLeaseRequest = {
      process: this.processName,
      ...(this.leaseId ? { leaseId: this.leaseId } : {}),
      capacity: this.capacity,
      want: this.inUseCount + this.waiters.length,
      wantSeq: ++this.wantSeq,
      returnedTotal: this.returnedTotal,
      knownTarget: this.target,
      waitMs: Math.floor(this.leaseMs / 3),
      adaptive: this.adaptive,
      ...(report ? { report } : {}),
    };
    this.toldWant = request.want;
    this.sentRequests += 1;
    return this.client.workflow.executeUpdateWithStart(leaseSlotsUpdate, { args: [request], startWorkflowOperation });
  }

  private apply(reply: SlotLeaseReply, sentAt: number): void {
    if (reply.leaseId !== this.leaseId) {
      // A fresh lease: whatever the old one held lapsed with it.
      this.leaseId = reply.leaseId;
      this.returnedTotal = reply.returnedTotal;
    }
    this.grantedTotal = reply.grantedTotal;
    this.returnedTotal = Math.max(this.returnedTotal, reply.returnedTotal);
    this.target = reply.target;
    if (reply.leaseMs !== this.leaseMs) {
      // Renew every third of the lease the workflow actually gives (settle() re-creates the timer).
      this.leaseMs = reply.leaseMs;
      clearInterval(this.renewTimer);
      this.renewTimer = undefined;
    }
    this.renewedAtMs = sentAt;
    if (reply.limit !== undefined && reply.ceiling !== undefined) {
      const changed = this.admitted?.limit !== reply.limit || this.admitted?.ceiling !== reply.ceiling;
      this.admitted = { limit: reply.limit, ceiling: reply.ceiling, ...(reply.lastChange ? { lastChange: reply.lastChange } : {}) };
      if (changed) this.onLimit?.(this.admitted);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
