/**
 * The `onRemoved` listeners of the simulated Configuration Manager, by device instance (lookup key):
 * they persist across replugs and are told, in the order they were added, when their device leaves.
 */
export class RemovalListeners<Kind> {
  readonly #byInstance = new Map<string, Set<(how: Kind) => void>>();

  /** Adds `listener` for the instance with lookup key `instanceKey`; returns its remover. */
  add(instanceKey: string, listener: (how: Kind) => void): () => void {
    let set = this.#byInstance.get(instanceKey);
    if (set === undefined) {
      set = new Set();
      this.#byInstance.set(instanceKey, set);
    }
    const s = set;
    s.add(listener);
    return () => {
      s.delete(listener);
    };
  }

  /** Tells every listener of `instanceKey` (a snapshot); returns what they threw, in order, without stopping. */
  tell(instanceKey: string, how: Kind): unknown[] {
    const errors: unknown[] = [];
    const set = this.#byInstance.get(instanceKey);
    if (set === undefined) return errors;
    for (const l of [...set]) {
      try {
        l(how);
      } catch (e: unknown) {
        errors.push(e);
      }
    }
    return errors;
  }
}
