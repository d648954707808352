/**
 * The UI of `phiwall serve` in a real browser (Debian's chromium, driven by playwright-core): the graph
 * of the hipaa-clinic example, live updates, what-if, untrusted text, and the requests the page makes.
 * The UI is built from web/ into a temporary folder first, so the test always runs the current sources.
 * Screenshots of the main views go to artifacts/screenshots/; PHIWALL_UPDATE_SCREENSHOTS=1 also rewrites
 * docs/screenshots/serve-hipaa-clinic.png and the clinic under colour-vision deficiencies.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { AGGREGATE_ABOVE, buildView, NO_FILTERS, portsMatch } from '../../web/src/graph.ts';
import { nearestInDirection } from '../../web/src/keyboard.ts';
import type { Graph, GraphEdge, GraphNode } from '../../web/src/types.ts';
import { type RunningServe, startServe } from './index.ts';
import { QUARANTINE } from './test-support.ts';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = resolve(import.meta.dirname, '../..');
const EXAMPLE = join(ROOT, 'examples/hipaa-clinic');
const CONFIG = join(EXAMPLE, 'phiwall.yaml');
const ARTIFACTS = join(ROOT, 'artifacts/screenshots');
const DOC_SCREENSHOT = join(ROOT, 'docs/screenshots/serve-hipaa-clinic.png');
const EHR_API = 'ehr/ehr-api[Deployment]';
const RECORDS_DB = 'records/records-db[StatefulSet]';
const ANALYTICS_TO_RECORDS = 'analytics/reports[Deployment]->records/records-db[StatefulSet]';

const skipBrowser = existsSync(CHROMIUM)
  ? false
  : `no browser: ${CHROMIUM} is missing (apt-get install chromium) — the UI's browser test is skipped`;

// ---- synthetic graphs (aggregation at scale) ----------------------------------------------------

/** `namespaces` namespaces of `perNamespace` workloads, each talking to a few in the next namespace. */
function syntheticGraph(namespaces: number, perNamespace: number): Graph {
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  const id = (ns: number, w: number) => `ns-${ns}/app-${w}[Deployment]`;
  for (let ns = 0; ns < namespaces; ns++) {
    for (let w = 0; w < perNamespace; w++) {
      nodes.push({
        id: id(ns, w),
        type: 'workload',
        namespace: `ns-${ns}`,
        name: `app-${w}`,
        kind: 'Deployment',
        phi: ns % 10 === 0 && w === 0,
        exposed: w === 1,
        hostNetwork: false,
        labels: { app: `app-${w}` },
        findings: 0,
      });
      for (const k of [1, 2, 3]) {
        const target = id((ns + k) % namespaces, (w + k) % perNamespace);
        edges.push({
          id: `${id(ns, w)}->${target}`,
          source: id(ns, w),
          target,
          ports: `TCP ${8000 + k}`,
          protocols: ['TCP'],
          phi: false,
          dependsOn: [],
        });
      }
    }
  }
  nodes.push({ id: 'external:0.0.0.0/0', type: 'external', label: '0.0.0.0/0', cidrs: ['0.0.0.0/0'] });
  edges.push({
    id: `external:0.0.0.0/0->${id(1, 1)}`,
    source: 'external:0.0.0.0/0',
    target: id(1, 1),
    ports: 'all ports',
    protocols: ['TCP', 'UDP', 'SCTP'],
    phi: false,
    dependsOn: [],
  });
  return {
    generation: 1,
    source: { kind: 'files', label: 'synthetic' },
    namespaces: Array.from({ length: namespaces }, (_, ns) => ({
      name: `ns-${ns}`,
      phi: ns % 10 === 0,
      labels: {},
    })),
    nodes,
    edges,
    summary: {
      workloads: namespaces * perNamespace,
      phi: 0,
      edges: edges.length,
      failing: 0,
      needsReview: 0,
    },
    exposure: {
      phiFromInternet: [],
      phiFromNonPhiNamespaces: [],
      enforcementGaps: [],
      edges: { internet: [], namespaces: [] },
    },
    status: { enforcement: 'enforcing' },
  };
}

describe('UI graph model', () => {
  test('a large graph opens at namespace level, edges merged per pair of namespaces', () => {
    const graph = syntheticGraph(80, 25);
    assert.ok(graph.summary.workloads > AGGREGATE_ABOVE);
    const start = performance.now();
    const view = buildView(graph, { filters: NO_FILTERS, aggregate: true, expanded: new Set() });
    const elapsed = performance.now() - start;
    const nodes = view.elements.filter((e) => e.group === 'nodes');
    const edges = view.elements.filter((e) => e.group === 'edges');
    assert.equal(view.counts.workloads, 0);
    assert.equal(view.counts.hidden, 2000);
    assert.equal(nodes.length, 80 + 1); // the namespaces and the external block
    assert.equal(edges.length, 80 * 3 + 1);
    assert.ok(elapsed < 500, `building the aggregated view took ${elapsed} ms`);

    const open = buildView(graph, { filters: NO_FILTERS, aggregate: true, expanded: new Set(['ns-0']) });
    assert.equal(open.counts.workloads, 25);
    assert.equal(open.drawnNode.get('ns-0/app-0[Deployment]'), 'ns-0/app-0[Deployment]');
    assert.equal(open.drawnNode.get('ns-5/app-0[Deployment]'), 'ns:ns-5');
    assert.equal(
      open.drawnEdge.get('ns-0/app-0[Deployment]->ns-1/app-1[Deployment]'),
      'agg:ns-0/app-0[Deployment]->ns:ns-1',
    );
  });

  test('arrow keys move to the nearest node ahead, a step sideways counting twice', () => {
    const points = [
      { id: 'right', x: 10, y: 0 },
      { id: 'right-low', x: 5, y: 8 },
      { id: 'left', x: -4, y: 0 },
      { id: 'below', x: 1, y: 6 },
    ];
    const from = { x: 0, y: 0 };
    // Right: right scores 10, right-low 5 + 2·8 = 21, below 1 + 2·6 = 13; left is behind.
    assert.equal(nearestInDirection(points, from, 'right')?.id, 'right');
    assert.equal(nearestInDirection(points, from, 'left')?.id, 'left');
    // Down: below 6 + 2·1 = 8, right-low 8 + 2·5 = 18.
    assert.equal(nearestInDirection(points, from, 'down')?.id, 'below');
    assert.equal(nearestInDirection(points, from, 'up'), undefined, 'nothing above');
  });

  test('filters keep the matching edges and their ends', () => {
    const graph = syntheticGraph(4, 3);
    const port = buildView(graph, {
      filters: { ...NO_FILTERS, port: 'TCP 8002' },
      aggregate: false,
      expanded: new Set(),
    });
    assert.equal(port.counts.edges, 12 + 1); // and the external block's edge on all ports
    const ns = buildView(graph, {
      filters: { ...NO_FILTERS, namespace: 'ns-0' },
      aggregate: false,
      expanded: new Set(),
    });
    assert.ok(ns.elements.every((e) => e.group === 'nodes' || String(e.data.id).includes('ns-0/')));
    assert.equal(portsMatch('TCP 1-52,54-65535 UDP 53', ['TCP', 'UDP'], { protocol: 'UDP', port: 53 }), true);
    assert.equal(portsMatch('TCP 1-52,54-65535', ['TCP'], { port: 53 }), false);
    assert.equal(portsMatch('all ports', ['TCP'], { protocol: 'SCTP', port: 9 }), true);
  });
});

// ---- the browser ----------------------------------------------------------------------------

interface PageLog {
  requests: string[];
  cspViolations: string[];
  errors: string[];
  dialogs: string[];
}

/** Waits until the page draws the edges of the aggregated view with `expanded` open, and no others. */
async function assertEdgesDrawn(page: Page, graph: Graph, expanded: readonly string[]): Promise<void> {
  const view = buildView(graph, { filters: NO_FILTERS, aggregate: true, expanded: new Set(expanded) });
  const wanted = view.elements.filter((e) => e.group === 'edges').map((e) => String(e.data.id));
  await waitUntil(page, `window.__phiwall.cy.edges().length === ${wanted.length}`, 10_000);
  const drawn = await inPage<string[]>(page, `window.__phiwall.cy.edges().map((e) => e.id())`);
  assert.deepEqual(drawn.sort(), wanted.sort());
}

/** Each kind (that has elements) has one look, and no two kinds the same. */
function assertOneLookEach(kinds: Record<string, readonly { look: string }[]>): void {
  const looks = Object.entries(kinds)
    .filter(([, elements]) => elements.length > 0)
    .map(([kind, elements]) => [kind, new Set(elements.map((e) => e.look))] as const);
  for (const [i, [kind, look]] of looks.entries()) {
    assert.equal(look.size, 1, `one look for ${kind}: ${[...look].join(', ')}`);
    for (const [other, otherLook] of looks.slice(i + 1))
      assert.notDeepEqual(look, otherLook, `${kind} and ${other} look alike: ${[...look]}`);
  }
}

/** Evaluates a JavaScript expression in the page (a string: the test's TypeScript is never shipped to it). */
function inPage<T>(page: Page, expression: string): Promise<T> {
  return page.evaluate(expression) as Promise<T>;
}

/**
 * Waits until a JavaScript expression is truthy in the page. Polls with evaluate: Playwright's
 * waitForFunction compiles string predicates in the page, which the CSP (no 'unsafe-eval') refuses.
 */
async function waitUntil(page: Page, expression: string, timeout = 10_000, interval = 25): Promise<void> {
  const deadline = Date.now() + timeout;
  for (;;) {
    if (await page.evaluate(expression)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${expression}`);
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}

/** Waits for two frames: Cytoscape computes edge geometry when it draws. */
async function settle(page: Page): Promise<void> {
  await inPage(page, 'new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))');
}

async function shoot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}

/** Clicks a node or an edge where the canvas draws it, as a user would. */
async function clickElement(page: Page, id: string): Promise<void> {
  await settle(page);
  const point = await inPage<{ x: number; y: number }>(
    page,
    `(() => {
      const cy = window.__phiwall.cy;
      const ele = cy.getElementById(${JSON.stringify(id)});
      if (ele.empty()) throw new Error('not drawn: ' + ${JSON.stringify(id)});
      const p = ele.isNode() ? ele.renderedPosition() : ele.renderedMidpoint();
      const box = cy.container().getBoundingClientRect();
      return { x: box.left + p.x, y: box.top + p.y };
    })()`,
  );
  await page.mouse.click(point.x, point.y);
}

describe('phiwall serve UI in a browser', { skip: skipBrowser, timeout: 90_000 }, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'phiwall-ui-'));
  const webRoot = join(tmp, 'web');
  const servers: RunningServe[] = [];
  const logs = new Map<Page, PageLog>();
  let context: BrowserContext;
  let clinic: RunningServe;

  before(async () => {
    const { build } = await import('vite');
    await build({
      configFile: join(ROOT, 'web/vite.config.ts'),
      logLevel: 'error',
      build: { outDir: webRoot, emptyOutDir: true },
    });
    context = await chromium.launchPersistentContext(join(tmp, 'profile'), {
      executablePath: CHROMIUM,
      args: [
        '--headless=new',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1440, height: 900 },
      acceptDownloads: true,
    });
    // Relative paths when run from the repository, for what the screenshots show as the source.
    clinic = await serve({
      paths: [relative(process.cwd(), join(EXAMPLE, 'insecure')) || '.'],
      flows: [join(EXAMPLE, 'flows.csv')],
      watch: false,
    });
  });

  after(async () => {
    await context?.close();
    for (const server of servers) await server.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  async function serve(options: Parameters<typeof startServe>[0]): Promise<RunningServe> {
    const server = await startServe({ config: CONFIG, port: 0, webRoot, debounceMs: 50, ...options });
    servers.push(server);
    return server;
  }

  /** Opens the UI of `server` in test mode and waits for the graph. */
  async function open(server: RunningServe, options: { token?: string | false } = {}): Promise<Page> {
    const page = await context.newPage();
    const log: PageLog = { requests: [], cspViolations: [], errors: [], dialogs: [] };
    logs.set(page, log);
    page.on('request', (request) => log.requests.push(request.url()));
    page.on('console', (message) => {
      if (/Content.Security.Policy/i.test(message.text())) log.cspViolations.push(message.text());
    });
    page.on('pageerror', (error) => log.errors.push(error.message));
    page.on('dialog', (dialog) => {
      log.dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    const url = new URL(server.url);
    url.searchParams.set('test', '1');
    if (options.token === false) url.searchParams.delete('token');
    const response = await page.goto(url.toString());
    assert.ok(response, 'the page answered');
    if (options.token === false) return page;
    const csp = response.headers()['content-security-policy'] ?? '';
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /default-src 'none'/);
    await waitUntil(page, 'window.__phiwall && window.__phiwall.cy.nodes().length > 0');
    return page;
  }

  /** Every request the page made went to the server it came from; nothing inline broke the CSP. */
  function assertSelfContained(page: Page, server: RunningServe): void {
    const log = logs.get(page);
    assert.ok(log);
    const origin = new URL(server.url).origin;
    const offOrigin = log.requests.filter((u) => !u.startsWith(`${origin}/`) && !u.startsWith('data:'));
    assert.deepEqual(offOrigin, [], 'requests that left the server');
    assert.deepEqual(log.cspViolations, [], 'CSP violations');
    assert.deepEqual(log.errors, [], 'page errors');
    assert.deepEqual(log.dialogs, [], 'dialogs');
  }

  test('the hipaa-clinic graph: workloads, PHI marks, workload panel, edge explanation, finding highlight', async () => {
    const page = await open(clinic);
    // The flow report arrives after the graph.
    await waitUntil(page, `window.__phiwall.cy.edges('.flow').length > 0`);
    const counts = await inPage<{ workloads: number; phi: string[]; namespaces: number; flows: string[] }>(
      page,
      `(() => {
        const cy = window.__phiwall.cy;
        return {
          workloads: cy.nodes('.workload').length,
          phi: cy.nodes('.workload.phi').map((n) => n.id()).sort(),
          namespaces: cy.nodes('.namespace').length,
          flows: cy.edges('.flow').map((e) => e.classes().join(' ')),
        };
      })()`,
    );
    assert.equal(counts.workloads, 9);
    assert.deepEqual(counts.phi, [EHR_API, RECORDS_DB]);
    assert.equal(counts.namespaces, 8);
    const summary = page.getByTestId('summary');
    assert.equal(await summary.getAttribute('data-workloads'), '9');
    assert.equal(await summary.getAttribute('data-phi'), '2');
    // Observed flows (--flows) over the graph: one enforcement gap, the rest used allows.
    assert.equal(counts.flows.filter((c) => c.includes('flow-gap')).length, 1);
    assert.ok(counts.flows.some((c) => c.includes('flow-used')));
    await shoot(page, 'flows-overlay');
    await page.getByTestId('show-flows').uncheck();
    // The overlay is redrawn after the next render, not at once.
    await waitUntil(page, `window.__phiwall.cy.edges('.flow').length === 0`);
    await shoot(page, 'graph-overview');

    // A workload: its labels, the policies that select it, its findings.
    await clickElement(page, RECORDS_DB);
    const panel = page.getByTestId('workload-panel');
    await panel.getByTestId('policies').waitFor();
    assert.match((await panel.getByTestId('labels').textContent()) ?? '', /app\s*records-db/);
    assert.match((await panel.getByTestId('policies').textContent()) ?? '', /records-backup/);
    assert.ok((await panel.getByTestId('finding').count()) > 0);
    assert.equal(await inPage<string>(page, `window.__phiwall.cy.$(':selected').id()`), RECORDS_DB);
    await shoot(page, 'workload-panel');
    if (process.env.PHIWALL_UPDATE_SCREENSHOTS === '1' || !existsSync(DOC_SCREENSHOT)) {
      mkdirSync(join(DOC_SCREENSHOT, '..'), { recursive: true });
      await page.screenshot({ path: DOC_SCREENSHOT });
    }

    // An edge: the explain output for it. Pick a PHI edge whose middle no other element covers.
    await settle(page);
    const edge = await inPage<string>(
      page,
      `(() => {
        const cy = window.__phiwall.cy;
        const renderer = cy.renderer();
        const hitsOnly = (e) => {
          const m = e.midpoint();
          const tolerance = 3 / cy.zoom();
          for (const [dx, dy] of [[0, 0], [tolerance, 0], [-tolerance, 0], [0, tolerance], [0, -tolerance]]) {
            const hit = renderer.findNearestElement(m.x + dx, m.y + dy, true, false);
            if (!hit || hit.id() !== e.id()) return false;
          }
          return true;
        };
        const between = cy.edges('.phi').not('.entry-edge, .flow').filter((e) => e.source().is('.workload') && e.target().is('.workload'));
        const pick = between.filter(hitsOnly);
        return pick.length ? pick[0].id() : '';
      })()`,
    );
    assert.ok(edge, 'a clickable PHI edge');
    await clickElement(page, edge);
    await waitUntil(page, `window.__phiwall.cy.$(':selected').id() === ${JSON.stringify(edge)}`, 2000);
    const explanation = page.getByTestId('explain-text');
    await explanation.waitFor();
    const [source, target] = edge.split('->');
    const text = (await explanation.textContent()) ?? '';
    assert.ok(text.includes(`${source} -> ${target}`), text);
    assert.match(text, /Verdict: ALLOWED/);
    await shoot(page, 'edge-explanation');

    // A finding: its objects and edges are highlighted, the rest fades.
    await page.getByTestId('tab-findings').click();
    await page.locator('button[data-check="HIPAA-NP-011"]').first().click();
    await waitUntil(page, `window.__phiwall.cy.elements('.hl').length > 0`, 2000);
    const highlighted = await inPage<{ nodes: string[]; edges: string[]; faded: number }>(
      page,
      `(() => {
        const cy = window.__phiwall.cy;
        return {
          nodes: cy.nodes('.hl').map((n) => n.id()),
          edges: cy.edges('.hl').map((e) => e.id()),
          faded: cy.elements('.faded').length,
        };
      })()`,
    );
    assert.ok(highlighted.nodes.includes('ns:analytics'), JSON.stringify(highlighted));
    assert.ok(highlighted.edges.includes('analytics/reports[Deployment]->ehr/ehr-api[Deployment]'));
    assert.ok(highlighted.faded > 0);
    await shoot(page, 'findings-highlight');
    assertSelfContained(page, clinic);
    await page.close();
  });

  test('exposed PHI is told by shape, border and label, not by colour alone; screenshots under colour-vision deficiencies', async () => {
    const page = await open(clinic);
    await waitUntil(page, `window.__phiwall.cy.container().getAttribute('data-layout') === 'done'`);
    const workloads = await inPage<{ id: string; classes: string[]; look: string; label: string }[]>(
      page,
      `window.__phiwall.cy.nodes('.workload').map((n) => ({
        id: n.id(),
        classes: n.classes(),
        look: [n.style('shape'), n.style('border-style'), n.style('border-width')].join(' '),
        label: n.data('label'),
      }))`,
    );
    const has = (cls: string) => (w: { classes: string[] }) => w.classes.includes(cls);
    const exposedPhi = workloads.filter(has('phi-exposed'));
    const phi = workloads.filter((w) => has('phi')(w) && !has('exposed')(w));
    const exposed = workloads.filter((w) => has('exposed')(w) && !has('phi')(w));
    const plain = workloads.filter((w) => !has('exposed')(w) && !has('phi')(w));
    assert.deepEqual(
      [exposedPhi, phi].map((ws) => ws.map((w) => w.id)),
      [[EHR_API], [RECORDS_DB]],
    );
    // In the insecure clinic every other workload is exposed.
    assert.ok(exposed.length > 0, JSON.stringify(workloads));
    // Exposed PHI has a shape no other workload has; each kind a shape or border of its own; PHI says
    // so in its label. All of it is told apart in grey.
    const shape = (w: { look: string }) => w.look.split(' ')[0];
    for (const other of [...phi, ...exposed, ...plain])
      assert.notEqual(shape(other), shape(exposedPhi[0] ?? other));
    assertOneLookEach({ exposedPhi, phi, exposed, plain });
    assert.match(exposedPhi[0]?.label ?? '', /^⚠ EXPOSED PHI\nehr-api\n/);
    assert.match(phi[0]?.label ?? '', /^PHI · records-db\n/);
    // Edges from outside into PHI: a bar at their source and thicker than the other PHI edges.
    const edges = await inPage<{ internet: string[]; phi: number[]; plain: number[] }>(
      page,
      `(() => {
        const cy = window.__phiwall.cy;
        const width = (e) => e.numericStyle('width');
        return {
          internet: cy.edges('.internet-phi').map((e) => e.style('source-arrow-shape') + ' ' + width(e)),
          phi: cy.edges('.phi').not('.internet-phi').map(width),
          plain: cy.edges().not('.phi, .flow, .entry-edge').map(width),
        };
      })()`,
    );
    assert.ok(edges.internet.length > 0);
    const widest = (ws: number[]) => Math.max(...ws);
    for (const look of edges.internet) {
      const [arrow, width] = look.split(' ');
      assert.equal(arrow, 'tee');
      assert.ok(Number(width) > widest(edges.phi), look);
    }
    assert.ok(Math.min(...edges.phi) > widest(edges.plain), 'PHI edges are thicker than the others');
    // Observed flows: each kind by its line, arrow or width; a gap says so in its label.
    await waitUntil(page, `window.__phiwall.cy.edges('.flow').length > 0`);
    const flows = await inPage<{ kind: string; look: string; label: string }[]>(
      page,
      `window.__phiwall.cy.edges('.flow').map((e) => ({
        kind: e.classes().find((c) => c !== 'flow'),
        look: [e.style('line-style'), e.style('target-arrow-shape'), e.style('width')].join(' '),
        label: e.style('label'),
      }))`,
    );
    const byKind = new Map<string, typeof flows>();
    for (const flow of flows) byKind.set(flow.kind, [...(byKind.get(flow.kind) ?? []), flow]);
    assert.ok(byKind.size >= 2, JSON.stringify(flows));
    assertOneLookEach(Object.fromEntries(byKind));
    for (const gap of byKind.get('flow-gap') ?? []) assert.match(gap.label, /^⚠ gap · observed /);
    // Apart from the policy's connections by a dot in the middle.
    assert.deepEqual(
      await inPage<number[]>(
        page,
        `[window.__phiwall.cy.edges('.flow'), window.__phiwall.cy.edges().not('.flow')].map((es) => es.filter((e) => e.style('mid-target-arrow-shape') === 'circle').length / es.length)`,
      ),
      [1, 0],
    );
    // For the eye: the clinic as people with each colour-vision deficiency see it.
    const cdp = await context.newCDPSession(page);
    for (const type of ['deuteranopia', 'protanopia', 'achromatopsia'] as const) {
      await cdp.send('Emulation.setEmulatedVisionDeficiency', { type });
      await settle(page);
      await shoot(page, `vision-${type}`);
      const doc = join(DOC_SCREENSHOT, '..', `serve-clinic-${type}.png`);
      if (process.env.PHIWALL_UPDATE_SCREENSHOTS === '1' || !existsSync(doc))
        await page.screenshot({ path: doc });
    }
    await cdp.detach();
    assertSelfContained(page, clinic);
    await page.close();
  });

  test('a changed file updates the open graph within 2 s, keeping zoom, pan, layout and selection', async () => {
    const dir = join(tmp, 'live');
    cpSync(join(EXAMPLE, 'insecure'), dir, { recursive: true });
    const server = await serve({ paths: [dir] });
    const page = await open(server);
    await clickElement(page, EHR_API);
    await page.getByTestId('workload-panel').waitFor();
    const before = await inPage<{
      zoom: number;
      pan: { x: number; y: number };
      position: { x: number; y: number };
      generation: number;
    }>(
      page,
      `(() => {
        const cy = window.__phiwall.cy;
        cy.zoom(0.9);
        cy.pan({ x: 40, y: 25 });
        window.__samePage = true;
        return { zoom: cy.zoom(), pan: cy.pan(), position: cy.getElementById('${EHR_API}').position(), generation: window.__phiwall.generation };
      })()`,
    );
    assert.equal(
      await inPage<boolean>(page, `window.__phiwall.cy.getElementById('${ANALYTICS_TO_RECORDS}').nonempty()`),
      true,
    );

    // records-db now only admits ehr: every other namespace loses its edge into it.
    const file = join(dir, '30-policies.yaml');
    const text = readFileSync(file, 'utf8');
    const changed = text.replace(
      '        - namespaceSelector: {}',
      '        - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ehr}}',
    );
    assert.notEqual(changed, text);
    const start = Date.now();
    writeFileSync(file, changed);
    await waitUntil(page, `window.__phiwall.cy.getElementById('${ANALYTICS_TO_RECORDS}').empty()`, 2000);
    const elapsed = Date.now() - start;
    assert.ok(elapsed < 2000, `the graph changed after ${elapsed} ms`);

    const afterChange = await inPage<{
      zoom: number;
      pan: { x: number; y: number };
      position: { x: number; y: number };
      selected: string[];
      flashing: number;
      samePage: boolean;
    }>(
      page,
      `(() => {
        const cy = window.__phiwall.cy;
        return {
          zoom: cy.zoom(),
          pan: cy.pan(),
          position: cy.getElementById('${EHR_API}').position(),
          selected: cy.$(':selected').map((e) => e.id()),
          flashing: cy.elements('.flash').length,
          samePage: window.__samePage === true,
        };
      })()`,
    );
    assert.equal(afterChange.samePage, true, 'no reload');
    assert.equal(afterChange.zoom, before.zoom);
    assert.deepEqual(afterChange.pan, before.pan);
    assert.deepEqual(afterChange.position, before.position);
    assert.deepEqual(afterChange.selected, [EHR_API]);
    assert.ok(afterChange.flashing > 0, 'what changed flashes');
    await page.getByTestId('workload-panel').waitFor();

    await page.getByTestId('tab-changes').click();
    const feed = (await page.getByTestId('change-feed').textContent()) ?? '';
    assert.match(feed, /MODIFIED NetworkPolicy records\/records-db/);
    assert.match(feed, /−\d+ removed/);
    assert.ok(feed.includes(ANALYTICS_TO_RECORDS), feed);
    await shoot(page, 'change-feed');
    assertSelfContained(page, server);
    await page.close();
  });

  test('what-if: a policy opening PHI to another namespace shows the new edge and the new failing checks', async () => {
    const server = await serve({
      paths: [relative(process.cwd(), join(EXAMPLE, 'secure')) || '.'],
      watch: false,
    });
    const page = await open(server);
    assert.equal(
      await inPage<boolean>(page, `window.__phiwall.cy.getElementById('${ANALYTICS_TO_RECORDS}').empty()`),
      true,
    );
    const yaml = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: analytics-reads-records, namespace: records}
spec:
  podSelector: {matchLabels: {app: records-db}}
  policyTypes: [Ingress]
  ingress:
    - from:
        - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: analytics}}
      ports: [{port: 5432}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: reports-to-records, namespace: analytics}
spec:
  podSelector: {matchLabels: {app: reports}}
  policyTypes: [Egress]
  egress:
    - to:
        - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: records}}
      ports: [{port: 5432}]
`;
    await page.getByTestId('tab-what-if').click();
    await page.getByTestId('whatif-yaml').fill(yaml);
    await page.getByTestId('whatif-run').click();
    await page.getByTestId('whatif-result').waitFor();
    await waitUntil(page, `window.__phiwall.cy.edges('.wi-added').length > 0`, 2000);
    const added = await inPage<string[]>(page, `window.__phiwall.cy.edges('.wi-added').map((e) => e.id())`);
    assert.deepEqual(added, [ANALYTICS_TO_RECORDS]);
    const newFindings = (await page.getByTestId('whatif-new-findings').textContent()) ?? '';
    assert.match(newFindings, /fail.*HIPAA-NP-011/);
    assert.match(newFindings, /HIPAA-NP-012/);
    assert.match((await page.getByTestId('whatif-banner').textContent()) ?? '', /\+1 added/);
    await shoot(page, 'what-if');

    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download YAML' }).click();
    const file = await download;
    assert.equal(file.suggestedFilename(), 'what-if.yaml');
    assert.equal(readFileSync((await file.path()) ?? '', 'utf8'), yaml);
    assertSelfContained(page, server);
    await page.close();
  });

  test('untrusted text stays text: names, labels, annotations, paths and errors never become markup', async () => {
    const payload = (n: number) => `<img src=x onerror="window.__pwned=${n}">`;
    // A folder whose name is markup: it shows up as the source and in every file:line.
    const dir = join(tmp, '<img src=x onerror=window.__pwned=9>');
    mkdirSync(dir, { recursive: true });
    const manifest = `apiVersion: v1
kind: Namespace
metadata:
  name: evil
  labels: {data-classification: phi}
  annotations: {note: '${payload(1)}<script>window.__pwned=2</script>'}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: evil
  annotations:
    description: '${payload(3)}<svg onload="window.__pwned=4"></svg>'
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels: {app: web}
      annotations: {x: '${payload(3)}<iframe src="javascript:window.__pwned=5"></iframe>'}
    spec:
      containers: [{name: c, image: nginx}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: evil}
spec:
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: evil
  annotations: {a: '${payload(6)}'}
spec:
  rules:
    - host: evil.example
      http:
        paths:
          - path: '/<img src=x onerror=window.__pwned=7>'
            pathType: Prefix
            backend: {service: {name: web, port: {number: 80}}}
`;
    writeFileSync(join(dir, 'cluster.yaml'), manifest);
    const server = await serve({ paths: [dir], token: 'ui-test-token' });
    assert.ok(server.url.includes('token='));

    // Without the token the browser gets nothing but a 401.
    const refused = await open(server, { token: false });
    assert.match((await refused.content()) ?? '', /401/);
    assert.equal(await inPage<boolean>(refused, `'__phiwall' in window`), false);
    await refused.close();

    const page = await open(server);
    await clickElement(page, 'evil/web[Deployment]');
    const annotations = page.getByTestId('workload-panel').getByTestId('annotations');
    await annotations.waitFor();
    assert.ok(((await annotations.textContent()) ?? '').includes(payload(3)));
    // The source label and the file:line of policies and findings carry the folder's name.
    assert.ok(((await page.locator('.source').textContent()) ?? '').includes('<img src=x'));
    await page.getByTestId('tab-findings').click();
    await page.locator('select[aria-label="Which findings"]').selectOption('all');
    for (const button of await page.locator('button.finding-head').all()) await button.click();
    await clickElement(page, 'ns:evil');

    // What-if errors quote the invalid input.
    await page.getByTestId('tab-what-if').click();
    await page
      .getByTestId('whatif-yaml')
      .fill(
        `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: x, namespace: evil}\nspec:\n  podSelector: {matchLabels: {app: '${payload(8)}'}}\n`,
      );
    await page.getByTestId('whatif-run').click();
    const errors = page.getByTestId('whatif-errors');
    await errors.waitFor();
    assert.ok(((await errors.textContent()) ?? '').includes('onerror'));

    // So does the error event of an input that no longer loads.
    writeFileSync(
      join(dir, 'cluster.yaml'),
      `${manifest}---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: evil, labels: {a: '${payload(10)}'}}\nspec: {containers: [{name: c, image: x}]}\n`,
    );
    await page.getByTestId('tab-changes').click();
    await page.locator('.feed-entry.error').waitFor({ timeout: 3000 });
    assert.ok(((await page.getByTestId('change-feed').textContent()) ?? '').includes('onerror'));

    // Whatever the server sends: every string of the API made of markup.
    const injected = await context.newPage();
    logs.set(injected, { requests: [], cspViolations: [], errors: [], dialogs: [] });
    const log = logs.get(injected);
    injected.on('request', (request) => log?.requests.push(request.url()));
    injected.on('pageerror', (error) => log?.errors.push(error.message));
    injected.on('dialog', (dialog) => {
      log?.dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    const bad = (n: number) => `<img src=x onerror="window.__pwned=${100 + n}">`;
    const w = `${bad(1)}/${bad(2)}[${bad(3)}]`;
    const graph: Graph = {
      generation: 1,
      source: { kind: 'files', label: bad(4) },
      namespaces: [{ name: bad(1), phi: true, labels: { [bad(5)]: bad(6) } }],
      nodes: [
        {
          id: w,
          type: 'workload',
          namespace: bad(1),
          name: bad(2),
          kind: bad(3),
          phi: true,
          exposed: true,
          hostNetwork: false,
          labels: { [bad(7)]: bad(8) },
          findings: 1,
        },
        { id: `external:${bad(9)}`, type: 'external', label: bad(9), cidrs: [bad(9)] },
      ],
      edges: [
        {
          id: `external:${bad(9)}->${w}`,
          source: `external:${bad(9)}`,
          target: w,
          ports: bad(10),
          protocols: ['TCP'],
          phi: true,
          dependsOn: [bad(11)],
        },
      ],
      summary: { workloads: 1, phi: 1, edges: 1, failing: 1, needsReview: 0 },
      exposure: {
        phiFromInternet: [w],
        phiFromNonPhiNamespaces: [w],
        enforcementGaps: [bad(28)],
        edges: { internet: [`external:${bad(9)}->${w}`], namespaces: [] },
      },
      status: {
        enforcement: 'unknown',
        stale: { since: bad(29), message: bad(30), errors: [bad(30)] },
        partial: { reasons: [bad(31)] },
      },
    };
    const finding = {
      check: bad(12),
      title: bad(13),
      status: 'fail',
      severity: 'high',
      hipaa: [bad(14)],
      objects: [w],
      evidence: {
        notes: [bad(15)],
        edges: [`${bad(9)} -> ${w} all ports`],
        rules: [{ rule: bad(16), at: bad(17) }],
      },
      remediation: { text: bad(18), yaml: `apiVersion: ${bad(19)}` },
    };
    await injected.route('**/api/**', (route) => {
      const path = new URL(route.request().url()).pathname;
      const json = (body: unknown) =>
        route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(body) });
      if (path === '/api/graph') return json(graph);
      if (path === '/api/findings') return json([finding]);
      if (path.startsWith('/api/workloads/'))
        return json({
          id: w,
          namespace: bad(1),
          name: bad(2),
          kind: bad(3),
          labels: { [bad(7)]: bad(8) },
          annotations: { [bad(20)]: bad(21) },
          phi: true,
          phiReason: bad(22),
          policies: [{ kind: bad(23), name: bad(24), namespace: bad(1), directions: [bad(25)], at: bad(26) }],
          findings: [finding],
        });
      if (path === '/api/explain') return json({ text: bad(27), json: {} });
      if (path === '/api/flows')
        return route.fulfill({ status: 404, contentType: 'application/json', body: '{}' });
      return route.continue();
    });
    const url = new URL(server.url);
    url.searchParams.set('test', '1');
    await injected.goto(url.toString());
    await waitUntil(injected, 'window.__phiwall && window.__phiwall.cy.nodes().length > 0');
    await clickElement(injected, w);
    await injected.getByTestId('policies').waitFor();
    assert.ok(((await injected.getByTestId('labels').textContent()) ?? '').includes(bad(8)));
    await injected.locator('#app button.finding-head').first().click();
    await clickElement(injected, `external:${bad(9)}->${w}`);
    await injected.getByTestId('explain-text').waitFor();
    await injected.getByTestId('tab-findings').click();
    await injected.locator('button.finding-head').first().click();
    await injected.getByTestId('search').fill('img');
    await injected.getByTestId('search-hits').waitFor();
    await shoot(injected, 'untrusted-text');

    for (const p of [page, injected]) {
      const result = await inPage<{ pwned: unknown; markup: number }>(
        p,
        `({ pwned: window.__pwned, markup: document.querySelectorAll('img, iframe, svg, object, embed, script:not([src])').length })`,
      );
      assert.equal(result.pwned, undefined);
      assert.equal(result.markup, 0, 'no element was made from untrusted text');
      assertSelfContained(p, server);
    }
    await page.close();
    await injected.close();
  });

  test('2,000 workloads open at namespace level; a click expands a namespace', async () => {
    const graph = syntheticGraph(80, 25);
    const page = await context.newPage();
    await page.route('**/api/graph', (route) =>
      route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(graph) }),
    );
    await page.route('**/api/findings', (route) =>
      route.fulfill({ status: 200, contentType: 'application/json', body: '[]' }),
    );
    const start = Date.now();
    await page.goto(`${clinic.url}?test=1`);
    await waitUntil(page, 'window.__phiwall && window.__phiwall.cy.nodes().length > 0');
    const loaded = Date.now() - start;
    const drawn = await inPage<{ namespaces: number; workloads: number }>(
      page,
      `({ namespaces: window.__phiwall.cy.nodes('.namespace.collapsed').length, workloads: window.__phiwall.cy.nodes('.workload').length })`,
    );
    assert.deepEqual(drawn, { namespaces: 80, workloads: 0 });
    assert.ok(loaded < 8000, `the page took ${loaded} ms`);
    await clickElement(page, 'ns:ns-3');
    await waitUntil(page, `window.__phiwall.cy.nodes('.workload').length === 25`, 5000);
    assert.equal(
      await inPage<boolean>(page, `window.__phiwall.cy.getElementById('ns:ns-3').isParent()`),
      true,
    );
    await shoot(page, 'aggregated-2000');

    // The keyboard: arrows move a ring from node to node, Enter opens a namespace, Escape clears.
    await page.getByTestId('graph').focus();
    const ring = `window.__phiwall.cy.nodes('.kbd-focus').map((n) => n.id()).join(',')`;
    let focused = '';
    const walk = ['ArrowRight', 'ArrowDown', 'ArrowLeft', 'ArrowUp'];
    for (let i = 0; i < 40 && !focused.startsWith('ns:'); i++) {
      await page.keyboard.press(walk[Math.floor(i / 5) % 4] ?? 'ArrowRight');
      focused = await inPage<string>(page, ring);
      assert.ok(!focused.includes(','), 'one node at a time');
    }
    assert.match(focused, /^ns:ns-\d+$/, 'the walk reached a collapsed namespace');
    assert.ok(((await page.getByTestId('graph-focus').textContent()) ?? '').includes(focused.slice(3)));
    await page.keyboard.press('Enter');
    await waitUntil(page, `window.__phiwall.cy.nodes('.workload').length === 50`, 5000);
    assert.equal(
      await inPage<boolean>(page, `window.__phiwall.cy.getElementById('${focused}').isParent()`),
      true,
    );
    await page.keyboard.press('Escape');
    await waitUntil(page, `window.__phiwall.cy.$(':selected').length === 0 && ${ring} === ''`, 2000);

    // The panel tabs: one tab stop, arrow keys between them.
    await page.getByTestId('tab-findings').click();
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.getByTestId('tab-changes').getAttribute('aria-selected'), 'true');
    assert.equal(await inPage<string>(page, 'document.activeElement.dataset.testid'), 'tab-changes');
    await page.keyboard.press('ArrowLeft');
    assert.equal(await page.getByTestId('tab-findings').getAttribute('aria-selected'), 'true');
    await page.close();
  });

  for (const [size, namespaces, perNamespace] of [
    ['S', 10, 26],
    ['M', 200, 25],
  ] as const) {
    test(`${size} scale (${namespaces} namespaces, ${namespaces * perNamespace} workloads): namespace level first, laid out off the main thread, expand in place; timings recorded`, async (t) => {
      const graph = syntheticGraph(namespaces, perNamespace);
      const page = await context.newPage();
      // Main-thread tasks over 50 ms, from the first script on (Chromium's Long Tasks API), with when they began.
      await page.addInitScript(
        'window.__longTasks = []; new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__longTasks.push([Math.round(e.startTime), Math.round(e.duration)]); }).observe({ type: "longtask", buffered: true });',
      );
      await page.route('**/api/graph', (route) =>
        route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(graph) }),
      );
      await page.route('**/api/findings', (route) =>
        route.fulfill({ status: 200, contentType: 'application/json', body: '[]' }),
      );
      const start = Date.now();
      await page.goto(`${clinic.url}?test=1`);
      await waitUntil(page, 'window.__phiwall && window.__phiwall.cy.nodes().length > 0', 30_000);
      const firstView = Date.now() - start;
      assert.deepEqual(
        await inPage<{ namespaces: number; workloads: number }>(
          page,
          `({ namespaces: window.__phiwall.cy.nodes('.namespace.collapsed').length, workloads: window.__phiwall.cy.nodes('.workload').length })`,
        ),
        { namespaces, workloads: 0 },
      );
      const layoutDone = `window.__phiwall.cy.container().getAttribute('data-layout') === 'done'`;
      await waitUntil(page, layoutDone, 60_000);
      const laidOut = Date.now() - start;
      await assertEdgesDrawn(page, graph, []);
      const loadedAt = await inPage<number>(page, 'performance.now()');
      // Laid out: no two namespaces on one spot.
      const spread = await inPage<number>(
        page,
        `new Set(window.__phiwall.cy.nodes('.namespace').map((n) => Math.round(n.position('x')) + ',' + Math.round(n.position('y')))).size`,
      );
      assert.equal(spread, namespaces);
      await shoot(page, `${size.toLowerCase()}-namespace-level`);
      const position = `window.__phiwall.cy.getElementById('ns:ns-7').position()`;
      const collapsedAt = await inPage<{ x: number; y: number }>(page, position);
      const expandStart = Date.now();
      await clickElement(page, 'ns:ns-7');
      await waitUntil(page, `window.__phiwall.cy.nodes('.workload').length === ${perNamespace}`, 10_000);
      const expand = Date.now() - expandStart;
      if (size === 'M') {
        // Too many nodes to lay out again: the workloads take the collapsed namespace's place.
        const expandedAt = await inPage<{ x: number; y: number }>(page, position);
        assert.ok(
          Math.abs(expandedAt.x - collapsedAt.x) < 50 && Math.abs(expandedAt.y - collapsedAt.y) < 50,
          `expanded at ${JSON.stringify(expandedAt)}, was at ${JSON.stringify(collapsedAt)}`,
        );
      }
      // Every edge of the view is drawn (on a large graph they come a frame after the nodes).
      await assertEdgesDrawn(page, graph, ['ns-7']);
      // The frame that draws the last of them ends before the long tasks are read.
      await settle(page);
      const tasks = await inPage<[number, number][]>(page, 'window.__longTasks');
      await shoot(page, `${size.toLowerCase()}-namespace-expanded`);
      // The same at a phone's width: the graph first, the panels below it.
      await page.setViewportSize({ width: 390, height: 844 });
      await settle(page);
      await inPage(page, `window.__phiwall.cy.fit(window.__phiwall.cy.getElementById('ns:ns-7'), 20)`);
      await settle(page);
      await shoot(page, `${size.toLowerCase()}-phone`);
      const timings = {
        workloads: namespaces * perNamespace,
        edges: graph.edges.length,
        firstViewMs: firstView,
        layoutDoneMs: laidOut,
        expandMs: expand,
        longTasksMs: tasks.map(([, duration]) => duration),
        longestAfterLayoutMs: Math.max(0, ...tasks.filter(([at]) => at >= loadedAt).map(([, d]) => d)),
      };
      mkdirSync(ARTIFACTS, { recursive: true });
      writeFileSync(
        join(ARTIFACTS, '..', `ui-timings-${size.toLowerCase()}.json`),
        `${JSON.stringify(timings, null, 2)}\n`,
      );
      t.diagnostic(JSON.stringify(timings));
      await page.close();
    });
  }

  test('exposure first; stale, partial, unenforced and reconnecting said; findings in the feed; highlights cleared; token out of the URL; narrow layouts', async () => {
    const dir = join(tmp, 'state');
    cpSync(join(EXAMPLE, 'insecure'), dir, { recursive: true });
    const server = await serve({ paths: [dir], token: 'ui-token' });
    const page = await open(server);
    assert.equal(new URL(page.url()).searchParams.get('token'), null, 'the token left the address bar');
    assert.equal(new URL(page.url()).searchParams.get('test'), '1');

    // The header leads with exposure; each number filters the graph to what it counts.
    assert.equal(await page.getByTestId('exposure-internet').getAttribute('data-count'), '1');
    assert.equal(await page.getByTestId('exposure-namespaces').getAttribute('data-count'), '2');
    assert.equal(await page.getByTestId('exposure-gaps').getAttribute('data-count'), '0');
    const drawn = (id: string) => `window.__phiwall.cy.getElementById(${JSON.stringify(id)}).nonempty()`;
    assert.equal(
      await inPage<boolean>(
        page,
        `window.__phiwall.cy.getElementById(${JSON.stringify(EHR_API)}).hasClass('phi-exposed')`,
      ),
      true,
    );
    assert.equal(
      await inPage<boolean>(
        page,
        `window.__phiwall.cy.getElementById(${JSON.stringify(RECORDS_DB)}).hasClass('phi-exposed')`,
      ),
      false,
    );
    assert.ok((await inPage<number>(page, `window.__phiwall.cy.edges('.internet-phi').length`)) > 0);
    assert.equal(
      await page.getByTestId('banner-enforcement').getAttribute('data-enforcement'),
      'not-enforcing',
    );
    // Only the exposed PHI workload and the ways in from outside: the internal callers leave the view.
    await page.getByTestId('exposure-internet').click();
    await waitUntil(page, `!(${drawn(RECORDS_DB)}) && ${drawn(EHR_API)}`, 3000);
    assert.deepEqual(
      await inPage<string[]>(
        page,
        `window.__phiwall.cy.edges().not('.flow').map((e) => e.source().id()).sort()`,
      ),
      ['entry:Ingress/ehr/ehr', 'entry:Service/ehr/ehr-api', 'external:0.0.0.0/0,::/0'],
    );
    await shoot(page, 'exposure-filter');
    await page.getByTestId('exposure-internet').click();
    await waitUntil(page, drawn(RECORDS_DB), 3000);

    // A finding highlight belongs to its tab: switching to What-if clears it.
    await page.getByTestId('tab-findings').click();
    await page.locator('button[data-check="HIPAA-NP-011"]').first().click();
    await waitUntil(page, `window.__phiwall.cy.elements('.hl').length > 0`, 2000);
    await page.getByTestId('tab-what-if').click();
    await waitUntil(page, `window.__phiwall.cy.elements('.hl, .faded').length === 0`, 2000);

    // A change that ends failing findings lists them in the feed.
    const policies = join(dir, '30-policies.yaml');
    const original = readFileSync(policies, 'utf8');
    const edited = original.replace(
      '        - namespaceSelector: {}\n',
      '        - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ehr}}\n          podSelector: {matchLabels: {app: ehr-api}}\n',
    );
    assert.notEqual(edited, original);
    writeFileSync(policies, edited);
    await page.getByTestId('tab-changes').click();
    const stopped = page.getByTestId('feed-findings-stopped');
    await stopped.waitFor({ timeout: 5000 });
    assert.match((await stopped.textContent()) ?? '', /HIPAA-NP-0\d\d fail .*records\/records-db/);

    // An input that stops loading: the page says the graph is stale, why, and since when.
    writeFileSync(
      policies,
      `${edited}---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: [oops}\n`,
    );
    const stale = page.getByTestId('banner-stale');
    await stale.waitFor({ timeout: 5000 });
    assert.match((await stale.textContent()) ?? '', /30-policies\.yaml:\d+:\d+/);
    assert.equal(await page.getByTestId('live').getAttribute('data-state'), 'stale');
    await shoot(page, 'stale-banner');
    writeFileSync(policies, edited);
    await stale.waitFor({ state: 'detached', timeout: 5000 });
    assert.equal(await page.getByTestId('live').getAttribute('data-state'), 'live');

    // Phone and tablet widths: the graph keeps most of the width, the panels stack below it.
    for (const [width, height] of [
      [390, 844],
      [768, 1024],
    ] as const) {
      await page.setViewportSize({ width, height });
      await settle(page);
      const canvas = await inPage<{ width: number; height: number }>(
        page,
        `(() => { const box = window.__phiwall.cy.container().getBoundingClientRect(); return { width: box.width, height: box.height }; })()`,
      );
      assert.ok(canvas.width >= width * 0.9, `canvas ${canvas.width}px wide at ${width}px`);
      assert.ok(canvas.height >= 200, `canvas ${canvas.height}px high at ${width}px`);
      await shoot(page, `narrow-${width}`);
    }
    await page.setViewportSize({ width: 1440, height: 900 });

    // The server goes away: the page says it is reconnecting.
    await server.close();
    await page.getByTestId('banner-reconnecting').waitFor({ timeout: 5000 });
    assert.equal(await page.getByTestId('live').getAttribute('data-state'), 'reconnecting');
    await page.close();
  });

  test('a workload whose pods differ drills down to its pod groups, in the panel and in the graph', async () => {
    const dir = join(tmp, 'quarantine');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'cluster.yaml'), QUARANTINE);
    const server = await serve({ paths: [dir], watch: false });
    const page = await open(server);
    const API = 'web/api[Deployment]';
    await clickElement(page, API);
    const groups = page.getByTestId('pod-group');
    await groups.first().waitFor();
    assert.equal(await groups.count(), 2);
    const text = (await page.getByTestId('pod-groups').textContent()) ?? '';
    // The quarantined pod sends nothing; the other sends anything to the client (src/server/pod-groups.test.ts).
    assert.match(text, /quarantine=true · 1 pod.*api-5c6b9d-q.*→ web\/client: none/);
    assert.match(text, /!quarantine · 1 pod.*api-5c6b9d-ok.*→ web\/client: all ports/);
    await page.getByTestId('drill').click();
    await waitUntil(page, `window.__phiwall.cy.nodes('.pod-group').length === 2`, 3000);
    const drawn = await inPage<{ parents: string[]; edges: string[][] }>(
      page,
      `(() => {
        const cy = window.__phiwall.cy;
        return {
          parents: cy.nodes('.pod-group').map((n) => n.parent().id()),
          edges: cy.edges('.group-edge').map((e) => [e.source().data('label'), e.target().id(), e.data('label')]),
        };
      })()`,
    );
    assert.deepEqual(drawn.parents, [API, API]);
    assert.deepEqual(drawn.edges, [['!quarantine\n1 pod', 'web/client[Pod]', 'all ports']]);
    await shoot(page, 'pod-groups');
    await page.getByTestId('drill').click();
    await waitUntil(page, `window.__phiwall.cy.nodes('.pod-group').length === 0`, 3000);
    assertSelfContained(page, server);
    await page.close();
  });

  test('a partial input (--skip-invalid) is marked partial, with what was left out', async () => {
    const dir = join(tmp, 'partial');
    cpSync(join(EXAMPLE, 'secure'), dir, { recursive: true });
    writeFileSync(
      join(dir, '99-broken.yaml'),
      'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: broken, namespace: ehr}\nspec: {podSelector: 7}\n',
    );
    const server = await serve({ paths: [dir], skipInvalid: true });
    const page = await open(server);
    const partial = page.getByTestId('banner-partial');
    await partial.waitFor();
    await partial.locator('summary').click();
    assert.match((await partial.textContent()) ?? '', /99-broken\.yaml:4:\d+: warning: spec\.podSelector/);
    assert.equal(await page.getByTestId('banner-enforcement').count(), 0, 'the secure clinic runs Calico');
    assertSelfContained(page, server);
    await page.close();
  });
});
