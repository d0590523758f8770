/**
 * The bus's fault hooks: URBs that never reach the device ({@link BusFaults.dropNextUrb}), hooks run at
 * every submission ({@link BusFaults.onUrbSubmit}) and "act (unplug, reset) when the Nth matching URB is
 * submitted" ({@link BusFaults.atUrb}).
 */
import type { LinkUrb, UrbTransferKind } from '../link-contract.js';

/** What a submit hook sees (fault injection: "unplug when the Nth URB of kind X is submitted"). */
export interface UrbSubmitInfo {
  readonly urb: LinkUrb;
  readonly transferType: UrbTransferKind;
  readonly endpoint: number;
  /** Control only. */
  readonly bmRequestType: number;
  readonly bRequest: number;
}

/** Matches URBs for {@link BusFaults.atUrb}. Absent fields match anything. */
export interface UrbMatch {
  readonly transferType?: UrbTransferKind | undefined;
  /** Endpoint address with direction (0x81, 0x01; control: 0x80 / 0x00). */
  readonly endpoint?: number | undefined;
  readonly bRequest?: number | undefined;
}

export class BusFaults {
  /** URBs swallowed by a drop fault: only their timeout or a cancel ends them. */
  readonly #held = new Set<LinkUrb>();
  /** Endpoint (0 for EP0) → URBs still to drop. */
  readonly #drop = new Map<number, number>();
  #submitHooks: ((info: UrbSubmitInfo) => void)[] = [];

  /**
   * The next `count` URBs submitted on `endpoint` (0x00/0x80 = EP0) never reach the device: they end
   * only by their timeout or a cancel (a host-side "this transfer times out" fault).
   */
  dropNextUrb(endpoint: number, count = 1): void {
    const key = (endpoint & 0x0f) === 0 ? 0 : endpoint;
    this.#drop.set(key, (this.#drop.get(key) ?? 0) + count);
  }

  /** Calls `hook` at every URB submission, before the URB is queued. Returns the remover. */
  onUrbSubmit(hook: (info: UrbSubmitInfo) => void): () => void {
    this.#submitHooks = [...this.#submitHooks, hook];
    return () => {
      this.#submitHooks = this.#submitHooks.filter((h) => h !== hook);
    };
  }

  /** Calls `action` when the `nth` URB matching `match` is submitted. Returns the remover. */
  atUrb(match: UrbMatch, nth: number, action: () => void): () => void {
    let seen = 0;
    const remove = this.onUrbSubmit((info) => {
      if (match.transferType !== undefined && match.transferType !== info.transferType) return;
      if (match.endpoint !== undefined && match.endpoint !== info.endpoint) return;
      if (match.bRequest !== undefined && (info.transferType !== 'control' || match.bRequest !== info.bRequest)) return;
      if (++seen === nth) {
        remove();
        action();
      }
    });
    return remove;
  }

  /** Whether any submit hook is installed (the submission's hot path skips them otherwise). */
  get hasSubmitHooks(): boolean {
    return this.#submitHooks.length > 0;
  }

  /** Runs the submit hooks for `urb`. */
  submitted(urb: LinkUrb): void {
    const info: UrbSubmitInfo = {
      urb,
      transferType: urb.transferType,
      endpoint: urb.endpoint,
      bmRequestType: urb.bmRequestType,
      bRequest: urb.bRequest,
    };
    for (const hook of this.#submitHooks) hook(info);
  }

  /** Swallows `urb` when a drop fault is armed for its endpoint; true when it did (the URB is HELD). */
  hold(urb: LinkUrb, dropKey: number): boolean {
    const drops = this.#drop.get(dropKey);
    if (drops === undefined) return false;
    if (drops <= 1) this.#drop.delete(dropKey);
    else this.#drop.set(dropKey, drops - 1);
    this.#held.add(urb);
    return true;
  }

  /** Lets go of a held URB (cancel or timeout); false when it is not held. */
  release(urb: LinkUrb): boolean {
    return this.#held.delete(urb);
  }

  /** The held URBs, as a snapshot (teardown completes them, then {@link clearHeld}). */
  held(): LinkUrb[] {
    return [...this.#held];
  }

  clearHeld(): void {
    this.#held.clear();
  }
}
