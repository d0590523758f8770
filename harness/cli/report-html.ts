/**
 * Two changes to the index.html the Allure report is built with, made after every build:
 * - The Google Analytics tag is removed. @allurereport/plugin-awesome 3.x writes it into every report
 *   (`analyticsEnable: true`, with no option to turn it off), so opening a test report on a developer's
 *   machine or from a CI artifact would report to a third party.
 * - The single file declares its data store before the app runs. Allure writes the data script at the end
 *   of <body>, after the app's script. When the app asks for its first data before that script has run, the
 *   requests go to file:// (blocked: "Failed to fetch" instead of the report; 1 load in 6 in headless
 *   Chromium here; allure-framework/allure3 issues 329 and 348 show the same symptom). With the store
 *   declared first and not yet ready, the app waits for `allureReportDataReady`, which the data script
 *   sets once every file is in.
 */

const ANALYTICS = /\s*<script async src="https:\/\/www\.googletagmanager\.com\/gtag\/js\?[^"]*"><\/script>\s*<script>(?:(?!<\/script>)[\s\S])*?gtag\('config'[\s\S]*?<\/script>/g;
const DATA_STORE_FIRST = '<script>window.allureReportData = window.allureReportData || {}; window.allureReportDataReady = false;</script>';

/** The report page without analytics (and, for the single file, with its data store declared first). */
export function patchReportHtml(html: string, options: { singleFile: boolean }): string {
  let out = html.replace(ANALYTICS, '');
  if (options.singleFile && !out.includes(DATA_STORE_FIRST)) out = out.replace(/<head>/, `<head>\n    ${DATA_STORE_FIRST}`);
  return out;
}
