/**
 * `npm run check-report [-- <dir>]`: opens every exported notebook (reports/*.html) in headless
 * Chromium, checks that each Plotly chart actually rendered (its div holds an `svg.main-svg`) and that
 * no script failed, and saves screenshots of every page and chart to <dir>/screenshots/.
 * Needs Chromium (Debian: `apt-get install chromium`; elsewhere set CHROMIUM_PATH).
 */
import { Command } from 'commander';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { chromium } from 'playwright-core';

const program = new Command()
  .name('check-report')
  .description('Check that the charts of an exported report render in headless Chromium')
  .argument('[dir]', 'report folder', 'reports')
  .option('--timeout <seconds>', 'how long each page may take to draw its charts', '60')
  .parse();

interface PageCheck {
  name: string;
  plots: number;
  rendered: number;
  missing: string[];
  errors: string[];
  /** Requests that left file:// (blocked): the report should not need the network. */
  external: string[];
}

// The flags keep a headless Chromium from reaching out (updates, sync, QUIC) on offline machines.
const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];

async function main(): Promise<void> {
  const dir = path.resolve(program.args[0] ?? 'reports');
  const timeoutMs = Number(program.opts<{ timeout: string }>().timeout) * 1000;
  const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!fs.existsSync(executablePath)) {
    throw new Error(`no Chromium at ${executablePath}: apt-get install chromium, or set CHROMIUM_PATH`);
  }
  if (!fs.existsSync(dir)) throw new Error(`report folder ${dir} does not exist: run \`npm run report\` first`);
  const pages = fs.readdirSync(dir).filter((f) => f.endsWith('.html') && f !== 'index.html').sort();
  if (pages.length === 0) throw new Error(`no exported notebooks (*.html) in ${dir}`);
  const shots = path.join(dir, 'screenshots');
  fs.mkdirSync(shots, { recursive: true });

  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'convnext-chromium-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 900 },
  });
  const results: PageCheck[] = [];
  try {
    for (const file of pages) {
      const name = path.basename(file, '.html');
      const page = await browser.newPage();
      const errors: string[] = [];
      const external: string[] = [];
      page.on('pageerror', (err) => errors.push(err.message));
      // Charts must draw offline; MathJax (notebooks with math) is the one thing allowed to be missing.
      await page.route((url) => url.protocol !== 'file:', (route) => {
        external.push(route.request().url());
        return route.abort();
      });
      await page.goto(`file://${path.join(dir, file)}`, { waitUntil: 'load', timeout: timeoutMs });
      const plots = await page.locator('.convnext-plot').count();
      await page.waitForFunction(
        () => Array.from(document.querySelectorAll('.convnext-plot')).every((el) => el.querySelector('svg.main-svg')),
        undefined, { timeout: timeoutMs },
      ).catch(() => undefined); // the counts below name what did not render
      const missing = await page.locator('.convnext-plot').evaluateAll((els) =>
        els.filter((el) => !el.querySelector('svg.main-svg')).map((el) => `${el.id}: ${el.textContent ?? ''}`.trim()));
      await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
      for (let i = 0; i < plots; i++) {
        await page.locator('.convnext-plot').nth(i).screenshot({ path: path.join(shots, `${name}-plot${i + 1}.png`) });
      }
      results.push({ name, plots, rendered: plots - missing.length, missing, errors, external });
      await page.close();
    }
  } finally {
    await browser.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }

  let failed = false;
  for (const r of results) {
    const ok = r.missing.length === 0 && r.errors.length === 0;
    failed ||= !ok;
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${r.name}: ${r.rendered}/${r.plots} charts rendered` +
      (r.errors.length > 0 ? `, ${r.errors.length} script errors` : ''));
    for (const m of r.missing) console.log(`       not rendered: ${m}`);
    for (const e of r.errors) console.log(`       error: ${e}`);
    for (const u of r.external) console.log(`       warning: blocked request to ${u}`);
  }
  console.log(`Screenshots: ${path.relative(process.cwd(), shots)}/`);
  if (failed) process.exit(1);
}

main().catch((err: Error) => {
  console.error(`check-report: ${err.message}`);
  process.exit(2);
});
