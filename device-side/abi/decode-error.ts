/**
 * The typed error of the binary contract (device-side/abi): a buffer that does not decode as the
 * struct it should be. Decoders never crash on bad input and never return a silent zero; they throw
 * {@link AbiDecodeError} naming the struct, the field and the sizes involved.
 */
import { HarnessError, UsageError } from '../../core/index.js';

/** What {@link AbiDecodeError} carries (plain data, survives `toJSON()`). */
export interface AbiDecodeErrorFields {
  /** The C struct being decoded, e.g. `USBFN_NOTIFICATION`. */
  readonly struct: string;
  /** The field that could not be decoded, e.g. `PipeCount`; `(buffer)` for a whole-buffer size problem. */
  readonly field: string;
  /** Bytes the struct/field needs (minimum, or exact when the struct has a fixed size). */
  readonly expectedBytes?: number | undefined;
  /** Bytes actually present. */
  readonly actualBytes?: number | undefined;
  /** What was wrong and how to fix it. */
  readonly detail: string;
}

/**
 * A buffer could not be decoded as an ABI struct (`ABI_DECODE`): too short, too long, or a field out
 * of its range. `[ABI_DECODE] USBFN_CLASS_INTERFACE.PipeCount: 17 exceeds MAX_NUM_USBFN_PIPES (16)`.
 */
export class AbiDecodeError extends HarnessError {
  override readonly name = 'AbiDecodeError';
  readonly struct: string;
  readonly field: string;
  readonly expectedBytes: number | undefined;
  readonly actualBytes: number | undefined;
  readonly detail: string;

  constructor(fields: AbiDecodeErrorFields, options?: { cause?: unknown }) {
    const sizes =
      fields.expectedBytes === undefined && fields.actualBytes === undefined
        ? ''
        : ` (expected ${fields.expectedBytes ?? '?'} bytes, got ${fields.actualBytes ?? '?'})`;
    super(
      'ABI_DECODE',
      `[ABI_DECODE] ${fields.struct}.${fields.field}: ${fields.detail}${sizes}`,
      {
        struct: fields.struct,
        field: fields.field,
        expectedBytes: fields.expectedBytes,
        actualBytes: fields.actualBytes,
        detail: fields.detail,
      },
      options,
    );
    this.struct = fields.struct;
    this.field = fields.field;
    this.expectedBytes = fields.expectedBytes;
    this.actualBytes = fields.actualBytes;
    this.detail = fields.detail;
  }
}

/**
 * Throws {@link AbiDecodeError} unless `bytes` holds at least `minBytes` from `offset`.
 * @throws AbiDecodeError
 */
export function requireBytes(struct: string, bytes: Uint8Array, minBytes: number, offset = 0): void {
  requireOffset(struct, offset);
  if (bytes.length - offset < minBytes) {
    throw new AbiDecodeError({
      struct,
      field: '(buffer)',
      expectedBytes: minBytes,
      actualBytes: Math.max(0, bytes.length - offset),
      detail: `buffer too short at offset ${offset}; pass the whole ${struct} (sizeof ${minBytes})`,
    });
  }
}

/**
 * Throws {@link AbiDecodeError} (field `(offset)`) unless `offset` is a byte index: a non-negative safe
 * integer. NaN, fractions and negative numbers would otherwise read `undefined` bytes as zeros or read
 * before the struct, silently.
 * @throws AbiDecodeError
 */
export function requireOffset(struct: string, offset: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new AbiDecodeError({
      struct,
      field: '(offset)',
      detail: `offset ${String(offset)} is not a byte index; pass a non-negative integer offset into the buffer`,
    });
  }
}

/**
 * Throws {@link AbiDecodeError} unless `bytes` holds exactly `size` bytes (fixed-size structs).
 * @throws AbiDecodeError
 */
export function requireExactBytes(struct: string, bytes: Uint8Array, size: number): void {
  if (bytes.length !== size) {
    throw new AbiDecodeError({
      struct,
      field: '(buffer)',
      expectedBytes: size,
      actualBytes: bytes.length,
      detail: `buffer is ${bytes.length < size ? 'too short' : 'too long'}; sizeof(${struct}) is ${size}`,
    });
  }
}

/**
 * A value given to an ABI encoder does not fit its field (`ABI_ENCODE`), e.g. a 256-WCHAR USB string or
 * 17 pipes. Encoders throw this instead of truncating.
 */
export function abiEncodeError(struct: string, field: string, detail: string): UsageError {
  return new UsageError('ABI_ENCODE', `${struct}.${field}: ${detail}`, { struct, field, detail });
}

/**
 * Throws `UsageError ABI_ENCODE` unless `value` is an integer in [min, max].
 * @throws UsageError
 */
export function requireInt(struct: string, field: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw abiEncodeError(struct, field, `${String(value)} is not an integer in [${min}, ${max}]`);
  }
}

/**
 * Throws `UsageError ABI_ENCODE` unless `target` has `size` bytes available from `offset`.
 * @throws UsageError
 */
export function requireTarget(struct: string, target: Uint8Array, size: number, offset: number): void {
  if (!Number.isInteger(offset) || offset < 0 || target.length - offset < size) {
    throw abiEncodeError(
      struct,
      '(target)',
      `target buffer has ${Math.max(0, target.length - offset)} bytes from offset ${offset}; ${struct} needs ${size}`,
    );
  }
}
