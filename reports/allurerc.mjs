// Allure 3 report configuration used by `usbfn-hil report` (paths relative to the project root).
import { readFileSync } from 'node:fs';

// The same categories the results carry (reports/allure-categories.json), for Allure 3's category view.
const categories = JSON.parse(readFileSync(new URL('./allure-categories.json', import.meta.url), 'utf8'));

export default {
  name: 'usbfn-hil',
  output: './reports/allure-report',
  historyPath: './reports/history.jsonl',
  categories,
  plugins: {
    awesome: {
      options: {
        reportName: 'usbfn-hil',
        // The tree follows the scenario folders: epic = scenarios/<area>, feature = the file.
        groupBy: ['epic', 'feature'],
      },
    },
  },
};
