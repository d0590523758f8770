import { describe, expect, it } from 'vitest';
import { patchReportHtml } from './report-html.js';

/** The shape @allurereport/plugin-awesome 3.18 writes (its template, data shortened). */
const PAGE = `<!DOCTYPE html>
<html dir="ltr" lang="en">
<head>
    <meta charset="utf-8">
    <script>
      window.allureReportOptions = {"reportName":"usbfn-hil"}
    </script>
</head>
<body>
    <div id="app"></div>
    <script src="data:text/javascript;base64,AAAA"></script>
    <script async src="https://www.googletagmanager.com/gtag/js?id=G-LNDJ3J7WT0"></script>
    <script>
        window.dataLayer = window.dataLayer || [];
        function gtag(){dataLayer.push(arguments);}
        gtag('js', new Date());
        gtag('config', 'G-LNDJ3J7WT0', {
          "report": "awesome",
          "single_file": "true"
        });
    </script>
    <script async>
      window.allureReportDataReady = false;
      window.allureReportData = window.allureReportData || {};
      function d(name, value){ return new Promise(function (resolve) { window.allureReportData[name] = value; return resolve(true); }); }
    </script>
    <script defer>
      Promise.allSettled([d("widgets/statistic.json","e30=")]).then(function(){ window.allureReportDataReady = true; })
    </script>
</body>
</html>`;

describe('patchReportHtml', () => {
  it('removes the analytics tag and nothing else', () => {
    const out = patchReportHtml(PAGE, { singleFile: false });
    expect(out).not.toMatch(/googletagmanager|gtag/);
    expect(out).toContain('<script src="data:text/javascript;base64,AAAA"></script>');
    expect(out).toContain('d("widgets/statistic.json","e30=")');
    expect(out).not.toContain('allureReportDataReady = false;</script>');
  });

  it('declares the single file data store, not ready, before any script runs (once, however often it is patched)', () => {
    const out = patchReportHtml(patchReportHtml(PAGE, { singleFile: true }), { singleFile: true });
    const declared = out.indexOf('window.allureReportDataReady = false;</script>');
    expect(declared).toBeGreaterThan(out.indexOf('<head>'));
    expect(declared).toBeLessThan(out.indexOf('<script>\n      window.allureReportOptions'));
    expect(out.split('window.allureReportData = window.allureReportData || {}; window.allureReportDataReady = false;').length).toBe(2);
  });
});
