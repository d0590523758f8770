/**
 * The usbmon capture of the simulated link: the URB events the bus taps, the pcap writer the rig
 * attaches to every scenario and the reader the capture tiers check it with.
 */
export * from './urb-event.js';
export * from './usbmon-format.js';
export * from './usbmon-pcap-reader.js';
export * from './usbmon-pcap-writer.js';
