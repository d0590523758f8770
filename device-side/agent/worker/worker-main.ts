/**
 * Entry point of the service worker process, forked by the agent with an IPC channel
 * (`WorkerSupervisor`, mode `process`). It hosts the backend's port and the device-side service; the agent
 * watches it with pings and kills it when it crashes or hangs.
 */
import { ServiceHost } from './service-host.js';
import type { FromWorker, ToWorker } from './worker-protocol.js';

if (process.send === undefined) {
  console.error('usbfn-hil agent worker: started without an IPC channel; the agent forks it (usbfn-hil agent serve)');
  process.exit(2);
}

const send = (message: FromWorker): void => {
  if (process.connected) process.send?.(message);
};
const host = new ServiceHost({ send, ownProcess: true });

process.on('message', (message: ToWorker) => {
  void host.handle(message);
});

// The agent went away (closed the channel or exited): release the device and leave.
process.once('disconnect', () => {
  const bound = setTimeout(() => process.exit(0), 3_000);
  bound.unref();
  void host.dispose().finally(() => process.exit(0));
});
