/**
 * `listInterfaces`: the documented CM_Get_Device_Interface_List_SizeW → CM_Get_Device_Interface_ListW loop
 * over the {@link UsbFnPort} seam, decoding the REG_MULTI_SZ into symbolic links.
 *
 * @see https://learn.microsoft.com/windows/win32/api/cfgmgr32/nf-cfgmgr32-cm_get_device_interface_listw (D-CM)
 */
import { ConfigRetError } from '../core/index.js';
import { CONFIGRET, configRetError, decodeMultiSz } from './abi/index.js';
import type { InterfaceListQuery, UsbFnPort } from './usbfn-port.js';

/** Options of {@link listInterfaces}. */
export interface ListInterfacesOptions {
  /** Size → list rounds before giving up while the list keeps growing. Default 8. */
  readonly maxAttempts?: number | undefined;
}

const DEFAULT_MAX_ATTEMPTS = 8;

/**
 * Lists the symbolic links of the device interfaces matching `query`.
 *
 * @note The list can grow between the size query and the list call (an interface arrives); the list call
 * then returns CR_BUFFER_SMALL and the caller must query the size again (D-CM). This loops at most
 * `maxAttempts` times.
 * @throws ConfigRetError from the port (e.g. CR_INVALID_DATA for a bad GUID); ConfigRetError CR_BUFFER_SMALL
 * (with the last one as `cause`) when the list still grew after `maxAttempts` rounds; AbiDecodeError for a
 * malformed REG_MULTI_SZ.
 * @example const links = await listInterfaces(port, { interfaceClassGuid: '{...}' });
 */
export async function listInterfaces(
  port: UsbFnPort,
  query: InterfaceListQuery,
  opts: ListInterfacesOptions = {},
): Promise<string[]> {
  const maxAttempts = opts.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  let last: ConfigRetError | undefined;
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    const chars = await port.getInterfaceListSize(query);
    try {
      return decodeMultiSz(await port.getInterfaceList(query, chars));
    } catch (err) {
      if (err instanceof ConfigRetError && err.cr === CONFIGRET.CR_BUFFER_SMALL) {
        last = err;
        continue;
      }
      throw err;
    }
  }
  throw configRetError('CM_Get_Device_Interface_ListW', CONFIGRET.CR_BUFFER_SMALL, {
    target: query.interfaceClassGuid,
    detail: `the interface list was still growing after ${maxAttempts} size→list attempts; interfaces are arriving faster than they can be listed — retry later or raise maxAttempts`,
    cause: last,
  });
}
