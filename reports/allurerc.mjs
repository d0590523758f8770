// Allure 3 report configuration used by `usbfn-hil report` (paths relative to the project root).
import { readFileSync } from 'node:fs';

// The same categories the results carry (reports/allure-categories.json), for Allure 3's category view.
const categories = JSON.parse(readFileSync(new URL('./allure-categories.json', import.meta.url), 'utf8'));

export default {
  name: 'usbfn-hil',
  output: './reports/allure-report',
  // One history writer: renderings of a run that is already recorded (the single file) add no entry.
  historyPath: process.env.USBFN_HIL_NO_HISTORY === '1' ? undefined : './reports/history.jsonl',
  categories,
  plugins: {
    awesome: {
      options: {
        reportName: 'usbfn-hil',
        // The tree follows the scenario folders: epic = scenarios/<area>, feature = the file.
        groupBy: ['epic', 'feature'],
        // `usbfn-hil report --single-file`: the whole report inlined in one index.html (opens from file://).
        singleFile: process.env.USBFN_HIL_SINGLE_FILE === '1',
      },
    },
  },
};
