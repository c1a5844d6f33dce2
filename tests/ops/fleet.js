// The fleet of the ops tests: several replicas of several apps scraped by one real Prometheus,
// the layout that issue 14 is about. Each replica is a real `erl` node named app@127.0.0.1 (as in
// deploy/kubernetes: every Pod's node has the same name) with its own EPMD on its own port
// (ERL_EPMD_PORT, honoured by erl, epmd, erl_call and beam_exporter alike, so the replicas cannot
// see each other) and its own beam_exporter. Prometheus finds the exporters through file_sd
// targets that carry the labels a PodMonitor attaches (namespace, pod, job = the app, container,
// endpoint). Every node sends telemetry to its exporter over UDP from a traffic process; one
// replica, FAULTY, is then broken in every way the rules know (growing mailbox, a process holding
// memory, processes near the limit, 5xx, slow requests/views/queries, crashes, restarts, lost
// telemetry, too many series), while the quiet app sends rare slow and failed requests that the rate guards must
// ignore.
//
// The one fake: kube-state-metrics, which needs a Kubernetes API server. FAKE_KUBE_STATE_METRICS
// serves kube_pod_container_resource_limits for the shop Pods (the memory limits of their app
// containers), as the real one would, so that the memory alert is judged against the limit.
'use strict';

const fs = require('fs');
const net = require('net');
const http = require('http');
const path = require('path');
const { spawn, execFileSync } = require('child_process');
const lib = require('./lib');

const NODE = 'app@127.0.0.1';
// Two apps in two namespaces: shop with three replicas, billing with one.
const REPLICAS = [
  { namespace: 'shop', app: 'shop', pod: 'shop-7d9f8c6b5-4xk2p' },
  { namespace: 'shop', app: 'shop', pod: 'shop-7d9f8c6b5-9qzrt', faulty: true },
  { namespace: 'shop', app: 'shop', pod: 'shop-7d9f8c6b5-m8w3c' },
  { namespace: 'billing', app: 'billing', pod: 'billing-5c4d7f9b8-t2lvn', quiet: true },
];
const FAULTY = REPLICAS.find((r) => r.faulty);
const QUIET = REPLICAS.find((r) => r.quiet);
// Memory limits of the app containers, as kube-state-metrics reports them: the faulty Pod's is
// small enough that its memory hog (about 32 MB) holds more than a quarter of it. billing has
// none, so its memory alert falls back to the fixed threshold.
const MEMORY_LIMITS = { 'shop-7d9f8c6b5-4xk2p': 1 << 30, 'shop-7d9f8c6b5-9qzrt': 64 << 20, 'shop-7d9f8c6b5-m8w3c': 1 << 30 };
// The rules are the bundled ones with every `for:` cut to this (as tests/e2e/lab does).
const RULE_FOR = '2s';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const token = (n) => Array.from({ length: n }, () => 'abcdefghijklmnopqrstuvwxyz0123456789'[Math.floor(Math.random() * 36)]).join('');

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => { const { port } = server.address(); server.close(() => resolve(port)); });
  });
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

async function waitFor(what, fn, timeoutMs) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await fn()) return;
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}`);
}

// DogStatsD lines as the app's forwarder sends them, each `[every, count, line]`: sent `count`
// times every `every` seconds. Durations in milliseconds.
// What the app-side forwarder sends every flush besides the app's metrics: its own counters, in
// the aggregated native form (docs/telemetry.md); here a healthy forwarder that drops nothing.
const FORWARDER_COUNTERS = [1, 1, { erl: `<<"BXT2", (term_to_binary({node(), [{<<"beam_exporter_forwarder_dropped_total">>, counter,
  <<"Events or observations the forwarder did not deliver, by reason.">>, [], [<<"forwarder">>, <<"reason">>],
  [{[<<"BeamExporter.Forwarder">>, <<"overload">>], 0}]}]}))/binary>>` }];
const HEALTHY_TRAFFIC = [
  FORWARDER_COUNTERS,
  [1, 2, 'phoenix.router_dispatch.stop.duration:12|h|#method:GET,route:/users/:id,status:200'],
  [1, 2, 'phoenix.endpoint.stop.duration:15|h|#method:GET,status:200'],
  [1, 1, 'phoenix.socket_connected.count:1|c|#transport:websocket,result:ok'],
  [1, 1, 'phoenix.channel_joined.count:1|c|#channel:MyAppWeb.RoomChannel,result:ok'],
  [1, 1, 'phoenix.channel_handled_in.duration:3|h|#channel:MyAppWeb.RoomChannel,event:new_msg'],
  [1, 1, 'phoenix.live_view.mount.stop.duration:30|h|#view:MyAppWeb.DashboardLive'],
  [1, 1, 'phoenix.live_view.handle_event.stop.duration:8|h|#view:MyAppWeb.DashboardLive,event:save'],
  [1, 1, 'phoenix.live_view.render.stop.duration:2|h|#view:MyAppWeb.DashboardLive'],
  [1, 2, 'my_app.repo.query.total_time:5|h|#source:users,command:select'],
  [1, 2, 'my_app.repo.query.queue_time:1|h|#source:users'],
  [1, 1, 'oban.job.stop.duration:50|h|#queue:mailers,worker:MyApp.Mailer,state:success'],
  [1, 1, 'beam_exporter.logger.message.count:1|c|#level:info'],
];
// The quiet app: a request, a failed request, a 5 s request, a slow mount and a slow query every
// 10 seconds. Without the rate guards its error ratio (about 1/3) and p99 latency (5 s) would page.
const QUIET_TRAFFIC = [
  FORWARDER_COUNTERS,
  [1, 1, 'phoenix.endpoint.stop.duration:15|h|#method:GET,status:200'],
  [10, 1, 'phoenix.router_dispatch.stop.duration:12|h|#method:GET,route:/invoices,status:200'],
  [10, 1, 'phoenix.router_dispatch.stop.duration:40|h|#method:POST,route:/invoices,status:500'],
  [10, 1, 'phoenix.router_dispatch.stop.duration:5000|h|#method:GET,route:/invoices/export,status:200'],
  [10, 1, 'phoenix.live_view.mount.stop.duration:5000|h|#view:BillingWeb.ReportLive'],
  [10, 1, 'my_app.repo.query.total_time:3000|h|#source:invoices,command:select'],
  [10, 1, 'my_app.repo.query.queue_time:500|h|#source:invoices'],
];
// The faulty replica on top of its healthy traffic: 20 requests/s of which half fail and half take
// 3 s, sockets dropping, a LiveView that crashes and mounts slowly, slow queries waiting for the
// pool, failing Oban jobs, GenServer call timeouts, a restarting child, malformed lines.
const FAULT_TRAFFIC = [
  [1, 10, 'phoenix.router_dispatch.stop.duration:40|h|#method:POST,route:/orders,status:500'],
  [1, 10, 'phoenix.router_dispatch.stop.duration:3000|h|#method:GET,route:/orders/:id,status:200'],
  [1, 2, 'phoenix.router_dispatch.exception.count:1|c|#route:/orders,kind:error,reason:RuntimeError'],
  [1, 40, 'beam_exporter.socket.disconnect.count:1|c|#transport:websocket,reason:timeout'],
  [1, 1, 'phoenix.live_view.handle_event.exception.count:1|c|#view:MyAppWeb.CheckoutLive,kind:error'],
  [1, 2, 'phoenix.live_view.mount.stop.duration:3000|h|#view:MyAppWeb.CheckoutLive'],
  [1, 4, 'my_app.repo.query.total_time:2000|h|#source:orders,command:select'],
  [1, 4, 'my_app.repo.query.queue_time:500|h|#source:orders'],
  [1, 2, 'oban.job.exception.duration:20|h|#queue:mailers,worker:MyApp.Mailer,state:failure'],
  [1, 2, 'oban.job.exception.count:1|c|#queue:mailers,worker:MyApp.Mailer,kind:error'],
  [1, 1, 'beam_exporter.logger.crash.count:1|c|#reason:timeout,server:MyApp.Inventory'],
  [1, 1, 'beam_exporter.logger.supervisor_restart.count:1|c|#supervisor:MyApp.Supervisor,child:MyApp.Inventory'],
  [1, 1, 'beam_exporter.logger.message.count:1|c|#level:error'],
  [1, 5, 'not a statsd line'],
  // Joins to 50 channels every second: over the series limit (40) of that one metric, so new
  // series are dropped all the time; the other metrics keep their room.
  ...Array.from({ length: 50 }, (_, i) => [1, 1, `phoenix.channel_joined.count:1|c|#channel:Room${i},result:ok`]),
];

const erlBinary = (s) => `<<"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}">>`;
// A line is a StatsD line (text) or `{erl: expression}` (a datagram built on the node).
const erlTraffic = (lines) => `[${lines.map(([every, count, l]) => `{${every}, ${count}, ${typeof l === 'string' ? erlBinary(l) : l.erl}}`).join(', ')}]`;

function shortenedRules(dir) {
  fs.mkdirSync(dir, { recursive: true });
  return lib.listFiles(lib.RULES_DIR, '.yml').map((file) => {
    const doc = lib.loadYaml(file);
    for (const group of doc.groups) for (const rule of group.rules) if (rule.for) rule.for = RULE_FOR;
    const out = path.join(dir, path.basename(file));
    fs.writeFileSync(out, lib.yaml.dump(doc, { lineWidth: -1 }));
    return out;
  });
}

class Fleet {
  constructor(exporter) {
    if (!exporter || !fs.existsSync(exporter)) throw new Error(`beam_exporter binary not found: ${exporter}`);
    this.exporter = exporter;
    this.tmp = lib.mkTmpDir('ops-fleet-');
    this.children = [];
    this.replicas = REPLICAS.map((r) => ({ ...r }));
  }

  start(name, cmd, args, env = {}) {
    const log = fs.openSync(path.join(this.tmp, `${name}.log`), 'w');
    const child = spawn(cmd, args, { stdio: ['ignore', log, log], env: { ...process.env, ...env } });
    child.on('error', (e) => { console.error(`${name}: ${e.message}`); });
    this.children.push(child);
    return child;
  }

  logs() {
    return fs.readdirSync(this.tmp).filter((f) => f.endsWith('.log'))
      .map((f) => `--- ${f} (tail) ---\n${fs.readFileSync(path.join(this.tmp, f), 'utf8').slice(-1500)}`).join('\n');
  }

  evalOn(replica, expr) {
    return execFileSync('erl_call', ['-name', NODE, '-c', replica.cookie, '-e'], {
      input: `${expr}\n`, encoding: 'utf8', timeout: 10000, stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ERL_EPMD_PORT: String(replica.epmdPort) },
    });
  }

  setTraffic(replica, lines) {
    this.evalOn(replica, `fleet_traffic ! {set, ${erlTraffic(lines)}}, ok.`);
  }

  async up() {
    const etc = path.join(this.tmp, 'etc');
    fs.mkdirSync(etc);
    fs.symlinkSync(path.join(lib.ROOT, 'config', 'mappings'), path.join(etc, 'mappings'));
    // The image's configuration, collecting every second, and a small series limit that the
    // faulty replica's joins to 50 channels exceed.
    const config = lib.loadYaml(path.join(lib.ROOT, 'deploy', 'image', 'beam_exporter.yml'));
    config.collectors.beam = { interval: '1s', rpc_timeout: '500ms', cpu_budget: 1 };
    config.collectors.telemetry.series_limit_per_metric = 40;
    fs.writeFileSync(path.join(etc, 'beam_exporter.yml'), lib.yaml.dump(config));

    for (const r of this.replicas) {
      [r.epmdPort, r.exporterPort, r.udpPort] = [await freePort(), await freePort(), await freePort()];
      r.cookie = token(20);
      r.cookieFile = path.join(this.tmp, `${r.pod}.cookie`);
      fs.writeFileSync(r.cookieFile, r.cookie, { mode: 0o600 });
      const env = { ERL_EPMD_PORT: String(r.epmdPort) };
      // Our own EPMD in the foreground (erl would start a daemon that outlives the test).
      this.start(`${r.pod}.epmd`, 'epmd', ['-address', '127.0.0.1'], env);
      await waitFor(`${r.pod}: epmd on port ${r.epmdPort}`, () => new Promise((resolve) => {
        const socket = net.connect(r.epmdPort, '127.0.0.1', () => { socket.destroy(); resolve(true); });
        socket.on('error', () => resolve(false));
      }), 5000);
      // The faulty replica runs with a small process limit, so that it can come near it.
      this.start(`${r.pod}.erl`, 'erl', ['-name', NODE, '-setcookie', r.cookie, '-noshell', '-noinput',
        '-kernel', 'inet_dist_use_interface', '{127,0,0,1}', ...(r.faulty ? ['+P', '1024'] : [])], env);
      this.start(`${r.pod}.beam_exporter`, this.exporter, [`--config.file=${path.join(etc, 'beam_exporter.yml')}`,
        `--web.listen-address=127.0.0.1:${r.exporterPort}`, `--beam.node=${NODE}`, `--beam.cookie-file=${r.cookieFile}`,
        `--telemetry.listen-udp=127.0.0.1:${r.udpPort}`, '--log.format=json'], env);
    }
    for (const r of this.replicas) {
      await waitFor(`${r.pod}: erl node`, async () => { try { return this.evalOn(r, 'ok.').includes('ok'); } catch (e) { return false; } }, 30000);
      await waitFor(`${r.pod}: beam_exporter /-/ready`, async () => (await httpGet(r.exporterPort, '/-/ready')).status === 200, 10000);
      // The traffic process: every second, each line `count` times if the tick is a multiple of
      // `every`; {set, Lines} replaces the lines.
      this.evalOn(r, `Loop = fun Loop(S, Lines, Tick) ->
          receive {set, New} -> Loop(S, New, Tick); stop -> ok
          after 1000 ->
            [[gen_udp:send(S, {127,0,0,1}, ${r.udpPort}, L) || _ <- lists:seq(1, N)] || {Every, N, L} <- Lines, Tick rem Every =:= 0],
            Loop(S, Lines, Tick + 1)
          end
        end,
        register(fleet_traffic, spawn(fun() -> {ok, S} = gen_udp:open(0), Loop(S, ${erlTraffic(r.quiet ? QUIET_TRAFFIC : HEALTHY_TRAFFIC)}, 0) end)),
        ok.`);
    }

    // The fake kube-state-metrics (see the file comment).
    const ksmBody = Object.entries(MEMORY_LIMITS).map(([pod, bytes]) => ['app', 'beam-exporter'].map((container) =>
      `kube_pod_container_resource_limits{namespace="shop",pod="${pod}",node="worker-1",container="${container}",resource="memory",unit="byte"} ${container === 'app' ? bytes : 128 << 20}\n`).join('')).join('');
    this.ksm = http.createServer((req, res) => { res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' }); res.end(`# TYPE kube_pod_container_resource_limits gauge\n${ksmBody}`); });
    await new Promise((resolve) => this.ksm.listen(0, '127.0.0.1', resolve));

    // The targets a PodMonitor (jobLabel app.kubernetes.io/name) would produce.
    const targets = this.replicas.map((r) => ({ targets: [`127.0.0.1:${r.exporterPort}`],
      labels: { namespace: r.namespace, pod: r.pod, job: r.app, container: 'beam-exporter', endpoint: 'metrics' } }));
    fs.writeFileSync(path.join(this.tmp, 'pods.json'), JSON.stringify(targets));
    this.promPort = await freePort();
    fs.writeFileSync(path.join(this.tmp, 'prometheus.yml'), lib.yaml.dump({
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: shortenedRules(path.join(this.tmp, 'rules')),
      scrape_configs: [
        { job_name: 'podMonitor/beam-exporter', file_sd_configs: [{ files: [path.join(this.tmp, 'pods.json')], refresh_interval: '1s' }] },
        { job_name: 'kube-state-metrics', honor_labels: true, static_configs: [{ targets: [`127.0.0.1:${this.ksm.address().port}`] }] },
      ],
    }));
    this.start('prometheus', 'prometheus', [`--config.file=${path.join(this.tmp, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(this.tmp, 'tsdb')}`, `--web.listen-address=127.0.0.1:${this.promPort}`, '--log.level=warn']);
    await waitFor('prometheus /-/ready', async () => (await httpGet(this.promPort, '/-/ready')).status === 200, 20000);
    await waitFor('every replica scraped with its node up', async () => {
      const r = await this.query('beam_up == 1');
      return r.length === this.replicas.length;
    }, 30000);
  }

  // Breaks the faulty replica: fault traffic, a mailbox that grows, a process that holds about
  // 32 MB, processes up to 95% of its limit.
  breakFaulty() {
    const r = this.replicas.find((x) => x.faulty);
    this.setTraffic(r, [...HEALTHY_TRAFFIC, ...FAULT_TRAFFIC]);
    this.evalOn(r, `Slow = spawn(fun() -> receive stop -> ok end end), register(fleet_slow_consumer, Slow),
      [Slow ! {order, I} || I <- lists:seq(1, 5000)],
      register(fleet_memory_hog, spawn(fun() -> L = lists:seq(1, 2000000), receive stop -> length(L) end end)),
      N = trunc(erlang:system_info(process_limit) * 0.95) - erlang:system_info(process_count),
      [spawn(fun() -> receive stop -> ok end end) || _ <- lists:seq(1, N)],
      ok.`);
  }

  // An instant query's result (the series with their labels), or an exception.
  async query(expr) {
    const res = await httpGet(this.promPort, `/api/v1/query?query=${encodeURIComponent(expr)}`, 10000);
    if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${res.body}`);
    return JSON.parse(res.body).data.result;
  }

  async alerts() {
    const res = await httpGet(this.promPort, '/api/v1/alerts', 10000);
    return res.status === 200 ? JSON.parse(res.body).data.alerts : [];
  }

  down() {
    for (const c of this.children) { try { c.kill('SIGKILL'); } catch (e) { /* already gone */ } }
    if (this.ksm) this.ksm.close();
    fs.rmSync(this.tmp, { recursive: true, force: true });
  }
}

// Runs `check(fleet)` (which returns a lib.Failures) on a fleet of the binary given as the first
// argument, stops the fleet whatever happens, prints the logs on an error, and exits accordingly.
function runOnFleet(check) {
  const fleet = new Fleet(process.argv[2]);
  check(fleet).then((f) => { fleet.down(); f.finish(); }, (e) => {
    console.error(e.stack || e);
    console.error(fleet.logs());
    fleet.down();
    process.exit(1);
  });
}

module.exports = { Fleet, runOnFleet, FAULTY, QUIET, REPLICAS, sleep, waitFor, httpGet };
