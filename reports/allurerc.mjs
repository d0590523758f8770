// Allure 3 report configuration used by `usbfn-hil report` (paths relative to the project root).
export default {
  name: 'usbfn-hil',
  output: './reports/allure-report',
  historyPath: './reports/history.jsonl',
};
