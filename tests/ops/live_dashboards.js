#!/usr/bin/env node
// The live test of the dashboards: a real Prometheus (Debian's `prometheus`) on loopback scrapes
// a real beam_exporter (the image's configuration) attached to a real `erl` node, while the node
// sends telemetry datagrams over UDP (DogStatsD lines as telemetry_metrics_statsd sends them).
// Then every query of every dashboard panel runs through Prometheus' HTTP API, with the
// dashboard variables set to this scenario, and every panel must return data.
// Usage: live_dashboards.js <path of the beam_exporter binary>
'use strict';

const fs = require('fs');
const net = require('net');
const http = require('http');
const path = require('path');
const { spawn, execFileSync } = require('child_process');
const lib = require('./lib');

const EXPORTER = process.argv[2];
const JOB = 'beam_exporter_live';
const RATE_INTERVAL = '15s';
const children = [];
const tmp = lib.mkTmpDir('ops-live-');

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => { const { port } = server.address(); server.close(() => resolve(port)); });
  });
}

function start(name, cmd, args) {
  const log = fs.openSync(path.join(tmp, `${name}.log`), 'w');
  const child = spawn(cmd, args, { stdio: ['ignore', log, log] });
  child.on('error', (e) => { console.error(`${name}: ${e.message}`); });
  children.push(child);
  return child;
}

function logOf(name) {
  try { return fs.readFileSync(path.join(tmp, `${name}.log`), 'utf8'); } catch (e) { return ''; }
}

function httpGet(port, urlPath, timeoutMs = 3000) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve({ status: 0, body: '' }));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what, fn, timeoutMs) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await fn()) return;
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}`);
}

const token = (n) => Array.from({ length: n }, () => 'abcdefghijklmnopqrstuvwxyz0123456789'[Math.floor(Math.random() * 36)]).join('');

// The telemetry of one second of a small Phoenix app, as DogStatsD lines (durations in ms).
const TELEMETRY = [
  'phoenix.router_dispatch.stop.duration:12|h|#method:GET,route:/users/:id,status:200',
  'phoenix.router_dispatch.stop.duration:40|h|#method:POST,route:/orders,status:500',
  'phoenix.endpoint.stop.duration:15|h|#method:GET,status:200',
  'phoenix.socket_connected.count:1|c|#transport:websocket,result:ok',
  'beam_exporter.socket.disconnect.count:1|c|#transport:websocket,reason:timeout',
  'phoenix.channel_joined.count:1|c|#channel:MyAppWeb.RoomChannel,result:ok',
  'phoenix.channel_handled_in.duration:3|h|#channel:MyAppWeb.RoomChannel,event:new_msg',
  'phoenix.live_view.mount.stop.duration:30|h|#view:MyAppWeb.DashboardLive',
  'phoenix.live_view.handle_event.stop.duration:8|h|#view:MyAppWeb.DashboardLive,event:save',
  'phoenix.live_view.render.stop.duration:2|h|#view:MyAppWeb.DashboardLive',
  'phoenix.live_view.handle_event.exception.count:1|c|#view:MyAppWeb.DashboardLive,kind:error',
  'my_app.repo.query.total_time:5|h|#source:users,command:select',
  'my_app.repo.query.queue_time:1|h|#source:users',
  'oban.job.stop.duration:50|h|#queue:mailers,worker:MyApp.Mailer,state:success',
  'oban.job.exception.duration:20|h|#queue:mailers,worker:MyApp.Mailer,state:failure',
  'oban.job.exception.count:1|c|#queue:mailers,worker:MyApp.Mailer,kind:error',
  'beam_exporter.logger.crash.count:1|c|#reason:timeout',
  'beam_exporter.logger.supervisor_restart.count:1|c|#supervisor:MyApp.Supervisor,child:MyApp.Worker',
  'beam_exporter.logger.message.count:1|c|#level:error',
  // Malformed: counted as line errors (the exporter dashboard's losses panel).
  'not a statsd line',
];

async function main() {
  if (!EXPORTER || !fs.existsSync(EXPORTER)) throw new Error(`usage: live_dashboards.js <beam_exporter binary>; got ${EXPORTER}`);
  const [exporterPort, udpPort, promPort] = [await freePort(), await freePort(), await freePort()];
  const node = `live_${token(8)}@127.0.0.1`;
  const cookie = token(20);
  const cookieFile = path.join(tmp, 'cookie');
  fs.writeFileSync(cookieFile, cookie, { mode: 0o600 });

  // The image's /etc/beam_exporter, plus a small series limit so that the limit is hit too.
  const etc = path.join(tmp, 'etc');
  fs.mkdirSync(etc);
  fs.symlinkSync(path.join(lib.ROOT, 'config', 'mappings'), path.join(etc, 'mappings'));
  const config = lib.loadYaml(path.join(lib.ROOT, 'deploy', 'image', 'beam_exporter.yml'));
  config.collectors.telemetry.series_limit_per_metric = 40;
  fs.writeFileSync(path.join(etc, 'beam_exporter.yml'), lib.yaml.dump(config));

  // As in the Pod: the exporter starts first and waits for the node.
  start('beam_exporter', EXPORTER, [`--config.file=${path.join(etc, 'beam_exporter.yml')}`,
    `--web.listen-address=127.0.0.1:${exporterPort}`, `--beam.node=${node}`, `--beam.cookie-file=${cookieFile}`,
    `--telemetry.listen-udp=127.0.0.1:${udpPort}`, '--log.format=json']);
  await waitFor('beam_exporter /-/ready', async () => (await httpGet(exporterPort, '/-/ready')).status === 200, 10000);

  fs.writeFileSync(path.join(tmp, 'prometheus.yml'), lib.yaml.dump({
    global: { scrape_interval: '1s', evaluation_interval: '1s' },
    rule_files: [path.join(lib.RULES_DIR, '*.yml')],
    scrape_configs: [{ job_name: JOB, static_configs: [{ targets: [`127.0.0.1:${exporterPort}`] }] }],
  }));
  start('prometheus', 'prometheus', [`--config.file=${path.join(tmp, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(tmp, 'tsdb')}`,
    `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn']);
  await waitFor('prometheus /-/ready', async () => (await httpGet(promPort, '/-/ready')).status === 200, 20000);
  await sleep(2000);  // a few scrapes while the node is not up yet: connect errors are counted

  start('erl', 'erl', ['-name', node, '-setcookie', cookie, '-noshell', '-noinput']);
  const evalOnNode = (expr) => execFileSync('erl_call', ['-name', node, '-c', cookie, '-e'], { input: `${expr}\n`, encoding: 'utf8', timeout: 10000, stdio: ['pipe', 'pipe', 'pipe'] });
  await waitFor('the erl node', async () => { try { return evalOnNode('ok.').includes('ok'); } catch (e) { return false; } }, 20000);
  // A process group, a process that lets its mailbox fill up, an ETS table with a long-lived owner.
  evalOnNode(`pg:start(pg),
    [spawn(fun() -> pg:join(live_group, self()), receive stop -> ok end end) || _ <- lists:seq(1, 5)],
    H = spawn(fun() -> receive stop -> ok end end), register(live_mailbox_holder, H),
    [H ! {msg, I} || I <- lists:seq(1, 500)],
    spawn(fun() -> ets:new(live_cache, [named_table, public, set]),
                   ets:insert(live_cache, [{I, lists:duplicate(100, I)} || I <- lists:seq(1, 2000)]),
                   receive stop -> ok end end),
    ok.`);

  // The steady traffic every second; after two seconds, 50 new routes at once: over the limit
  // of 40 series, so that the series-limit panel has something to show.
  const erlLines = (lines) => `[${lines.map((l) => `<<"${l.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}">>`).join(', ')}]`;
  const send = (lines) => evalOnNode(`{ok, S} = gen_udp:open(0), [gen_udp:send(S, {127,0,0,1}, ${udpPort}, L) || L <- ${erlLines(lines)}], gen_udp:close(S), ok.`);
  for (let second = 0; second < 20; second++) {
    send(TELEMETRY);
    if (second === 2) send(Array.from({ length: 50 }, (_, i) => `phoenix.router_dispatch.stop.duration:5|h|#method:GET,route:/r${i},status:200`));
    await sleep(1000);
  }

  const f = new lib.Failures('live dashboards');
  const promQuery = async (expr) => {
    const res = await httpGet(promPort, `/api/v1/query?query=${encodeURIComponent(expr)}`, 10000);
    if (res.status !== 200) return { error: `HTTP ${res.status}: ${res.body}` };
    const body = JSON.parse(res.body);
    const values = body.data.result.map((r) => Number(r.value[1]));
    return { series: values.length, finite: values.filter(Number.isFinite).length };
  };
  const vars = { job: JOB, instance: `127.0.0.1:${exporterPort}`, node, interval: RATE_INTERVAL };

  // Variable queries: label_values(selector, label) must offer this scenario's value.
  for (const { json } of lib.loadDashboards()) {
    for (const v of json.templating.list.filter((x) => x.type === 'query')) {
      const [, selector, label] = /^label_values\((.*), *([a-z_]+)\)$/.exec(v.query);
      const res = await httpGet(promPort, `/api/v1/label/${label}/values?match[]=${encodeURIComponent(lib.substituteGrafanaVariables(selector, vars))}`);
      const values = res.status === 200 ? JSON.parse(res.body).data : [];
      f.check(values.includes(vars[label]), `${json.title}: variable ${v.name} offers ${JSON.stringify(values)}, not ${vars[label]}`);
    }
  }
  let panels = 0, targets = 0, emptyTargets = [];
  for (const { json } of lib.loadDashboards()) {
    for (const panel of json.panels) {
      if (!panel.targets) continue;
      panels++;
      let panelHasData = false;
      for (const t of panel.targets) {
        targets++;
        const expr = lib.substituteGrafanaVariables(t.expr, vars);
        const r = await promQuery(expr);
        f.check(!r.error, `${json.title} / ${panel.title}: query failed: ${r.error} (${expr})`);
        if (r.finite > 0) panelHasData = true; else emptyTargets.push(`${json.title} / ${panel.title} [${t.refId}]`);
      }
      f.check(panelHasData, `${json.title} / ${panel.title}: no data (${panel.targets.map((t) => lib.substituteGrafanaVariables(t.expr, vars)).join(' ; ')})`);
    }
  }
  // Measured, not asserted: the exporter's footprint in this scenario (docs/kubernetes.md sizes the
  // sidecar's requests and limits from it).
  for (const q of ['max(process_resident_memory_bytes)', 'max_over_time(process_resident_memory_bytes[1m])', 'rate(process_cpu_seconds_total[15s])']) {
    const res = JSON.parse((await httpGet(promPort, `/api/v1/query?query=${encodeURIComponent(q)}`)).body);
    console.log(`measured ${q} = ${res.data.result.map((r) => r.value[1]).join(', ')}`);
  }
  console.log(`live dashboards: ${panels} panels, ${targets} queries; queries without data in panels that have data: ${emptyTargets.length ? emptyTargets.join(', ') : 'none'}`);
  return f;
}

function cleanup() {
  for (const c of children) { try { c.kill('SIGKILL'); } catch (e) { /* already gone */ } }
  fs.rmSync(tmp, { recursive: true, force: true });
}

// finish() exits the process, so the children are stopped first.
main().then((f) => { cleanup(); f.finish(); }, (e) => {
  console.error(e.stack || e);
  for (const name of ['beam_exporter', 'prometheus', 'erl']) console.error(`--- ${name} log (tail) ---\n${logOf(name).slice(-3000)}`);
  cleanup();
  process.exit(1);
});
