/**
 * A `Warehouse` decorator for the failure- and cost-budget tests, at the interface every engine sits
 * behind: it can make one processor's per-date work fail permanently (a missing input, while
 * `active()` says so), and it can report a given number of billed bytes for every per-date
 * statement through `onJobStatistics`, as the BigQuery engine does with its job statistics. It
 * records which dates of which processor the per-date work was attempted for.
 */
import { METHODS_WITH_OPTIONS, WarehouseDecorator, type WarehouseCall } from '../../src/warehouse/decorator';
import { WarehouseError, type QueryOptions, type Warehouse } from '../../src/warehouse/types';

export interface SteeringOptions {
  /** Every per-date call of this processor fails with a MissingInputError while `active()`. */
  poison?: { processor: string; message: string; active: () => boolean };
  /** Bytes billed reported for each per-date statement (labelled with a date) that succeeded. */
  bytesPerStatement?: number;
}

export class SteeringWarehouse extends WarehouseDecorator {
  /** processor → the dates its per-date work was attempted for. */
  readonly attempted = new Map<string, Set<string>>();
  /** Bytes reported through onJobStatistics. */
  reportedBytes = 0;

  constructor(
    inner: Warehouse,
    private readonly options: SteeringOptions,
  ) {
    super(inner);
  }

  protected around<T>(call: WarehouseCall, run: (opts: QueryOptions | undefined) => Promise<T>): Promise<T> {
    return METHODS_WITH_OPTIONS.has(call.method) ? this.call(call.opts, () => run(call.opts)) : run(call.opts);
  }

  private async call<T>(opts: QueryOptions | undefined, run: () => Promise<T>): Promise<T> {
    const labels = opts?.labels;
    const perDate = labels?.date !== undefined && labels.processor !== undefined;
    if (perDate) {
      const dates = this.attempted.get(labels.processor!) ?? new Set<string>();
      dates.add(labels.date!);
      this.attempted.set(labels.processor!, dates);
      const poison = this.options.poison;
      if (poison && labels.processor === poison.processor && poison.active()) throw new WarehouseError(poison.message, 'missing_input');
    }
    const result = await run();
    const bytes = this.options.bytesPerStatement;
    if (perDate && bytes !== undefined && bytes > 0) {
      this.reportedBytes += bytes;
      opts?.onJobStatistics?.({ bytesBilled: bytes, bytesProcessed: bytes });
    }
    return result;
  }
}
