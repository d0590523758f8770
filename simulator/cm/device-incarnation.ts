/**
 * One life of a device instance in the simulated Configuration Manager: from `addDevice` to its
 * removal. Re-adding the same instance ID (a replug) starts a new incarnation, so handle registrations
 * of the old one receive nothing about the new one (a DEVICEHANDLE registration is tied to the device
 * object of the handle, which is deleted on removal).
 *
 * ASSUMPTION(cm-incarnation): a DEVICEHANDLE registration hears nothing about a later
 * incarnation of the same instance ID; it stays registered until the service unregisters it.
 */
import type { SimCmHandle } from './cm-handle.js';

/** A device interface the model knows, present or not. */
export interface InterfaceRecord {
  /** The symbolic link as built ({@link symbolicLinkFor}); compared case-insensitively. */
  readonly symbolicLink: string;
  /** Canonical (lowercase braced) interface class GUID. */
  readonly classGuid: string;
  readonly instanceId: string;
  readonly instanceKey: string;
  /** The incarnation that currently exposes it; `undefined` when the interface is not present. */
  enabledBy: DeviceIncarnation | undefined;
}

/** Where an incarnation is in the PnP lifecycle. */
export type IncarnationState = 'present' | 'removing' | 'removed';

export class DeviceIncarnation {
  readonly instanceId: string;
  readonly instanceKey: string;
  /** 1 for the first `addDevice` of this instance ID, 2 after the first replug, ... */
  readonly generation: number;
  /**
   * `present`: listed, openable; `removing`: a query-remove succeeded or a surprise removal started,
   * new opens fail; `removed`: gone, handles left open are stale.
   */
  state: IncarnationState = 'present';
  readonly interfaces: InterfaceRecord[];
  /** Handles opened on this incarnation and not yet closed. */
  readonly openHandles = new Set<SimCmHandle>();

  constructor(instanceId: string, instanceKey: string, generation: number, interfaces: InterfaceRecord[]) {
    this.instanceId = instanceId;
    this.instanceKey = instanceKey;
    this.generation = generation;
    this.interfaces = interfaces;
  }
}
