/**
 * Rebuilding errors that crossed a wire (the device agent's HTTP protocol, a worker process boundary, a
 * vitest worker): the same class comes back, with its code, fields and cause chain, so a `Win32Error` raised
 * on the device lands in the same report category on the harness as in the simulator.
 */
import { ConfigRetError, HarnessError, LibusbError, TimeoutError, Win32Error, type HarnessErrorJSON } from './errors.js';

/** Rebuilds a serialized error into the same class, keeping code, fields and cause chain. */
export function errorFromJSON(json: HarnessErrorJSON): HarnessError {
  const d = json.data;
  const cause =
    json.cause === undefined
      ? undefined
      : 'code' in json.cause
        ? errorFromJSON(json.cause)
        : Object.assign(new Error(json.cause.message), { name: json.cause.name });
  const opts = cause === undefined ? undefined : { cause };
  let err: HarnessError;
  switch (json.name) {
    case 'Win32Error':
      err = new Win32Error(
        {
          api: String(d['api']),
          win32: Number(d['win32']),
          win32Name: String(d['win32Name']),
          ioctl: optString(d['ioctl']),
          target: optString(d['target']),
          detail: optString(d['detail']),
        },
        opts,
      );
      break;
    case 'ConfigRetError':
      err = new ConfigRetError(
        {
          api: String(d['api']),
          cr: Number(d['cr']),
          crName: String(d['crName']),
          target: optString(d['target']),
          detail: optString(d['detail']),
        },
        opts,
      );
      break;
    case 'LibusbError':
      err = new LibusbError(
        {
          op: String(d['op']),
          endpoint: d['endpoint'] === undefined || d['endpoint'] === null ? undefined : Number(d['endpoint']),
          errno: Number(d['errno']),
          libusbName: String(d['libusbName']),
          actualLength:
            d['actualLength'] === undefined || d['actualLength'] === null ? undefined : Number(d['actualLength']),
          detail: optString(d['detail']),
        },
        opts,
      );
      break;
    case 'TimeoutError':
      err = new TimeoutError(String(d['what']), Number(d['timeoutMs']), optString(d['detail']));
      break;
    default:
      err = new HarnessError(json.code, json.message, d, opts);
      break;
  }
  if (err.message !== json.message) Object.defineProperty(err, 'message', { value: json.message });
  return err;
}

function optString(v: unknown): string | undefined {
  return v === undefined || v === null ? undefined : String(v);
}
