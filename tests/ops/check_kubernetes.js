#!/usr/bin/env node
// Checks of deploy/kubernetes. Usage: check_kubernetes.js render|validate|generated|scrape-config
//   render:    the monitoring package and every overlay render (kustomize_lite, and `kubectl
//              kustomize` too where kubectl exists: the two outputs must be the same objects);
//   validate:  every rendered object validates against the Kubernetes OpenAPI schemas and the
//              prometheus-operator CRD schemas (kubernetes-models), plus explicit assertions: the
//              monitoring package holds the rules and dashboards (labelled for the Grafana
//              sidecar) and the overlays do not; in every overlay, among them the Components
//              applied to another app's plain Deployment (overlays/existing-app), the Pod has
//              everything the sidecar needs: sidecar shape, probes, securityContext, cookie,
//              distribution env, a writable RELEASE_TMP, ports, PodMonitor and NetworkPolicy;
//   generated: the committed PrometheusRule and dashboard ConfigMaps equal generate.js' output,
//              contain exactly the rules of deploy/prometheus/rules/*.yml and the dashboards' JSON.
'use strict';

const fs = require('fs');
const path = require('path');
const { isDeepStrictEqual } = require('util');
const lib = require('./lib');
const kustomize = require('./kustomize_lite');

const K8S_DIR = path.join(lib.ROOT, 'deploy', 'kubernetes');
const OVERLAYS = fs.readdirSync(path.join(K8S_DIR, 'overlays')).sort();
// Everything that is rendered: the package installed once per cluster, then the per-app overlays.
const PACKAGES = ['monitoring', ...OVERLAYS.map((o) => `overlays/${o}`)];
const key = (o) => `${o.apiVersion} ${o.kind} ${(o.metadata && o.metadata.namespace) || ''}/${o.metadata && o.metadata.name}`;

function kubectlPath() {
  for (const dir of (process.env.PATH || '').split(':')) {
    const p = path.join(dir, 'kubectl');
    if (dir && fs.existsSync(p)) return p;
  }
  return null;
}

function render() {
  const f = new lib.Failures('kubernetes render');
  const kubectl = kubectlPath();
  f.check(OVERLAYS.length >= 4, `expected at least 4 overlays, found ${OVERLAYS}`);
  for (const overlay of PACKAGES) {
    const dir = path.join(K8S_DIR, overlay);
    let ours = [];
    try {
      ours = kustomize.render(dir);
      f.check(ours.length > 0, `${overlay}: rendered nothing`);
    } catch (e) {
      f.check(false, `${overlay}: kustomize_lite failed: ${e.message}`);
    }
    if (kubectl) {
      let theirs = [];
      try {
        theirs = lib.loadAllYaml(lib.run(kubectl, ['kustomize', dir]));
      } catch (e) {
        f.check(false, `${overlay}: kubectl kustomize failed: ${e.stderr || e.message}`);
      }
      const a = new Map(ours.map((o) => [key(o), o]));
      const b = new Map(theirs.map((o) => [key(o), o]));
      f.check(isDeepStrictEqual([...a.keys()].sort(), [...b.keys()].sort()), `${overlay}: objects differ: kustomize_lite ${[...a.keys()]} vs kubectl ${[...b.keys()]}`);
      for (const [k, o] of a) f.check(!b.has(k) || isDeepStrictEqual(o, b.get(k)), `${overlay}: ${k} differs between kustomize_lite and kubectl kustomize`);
    }
    console.log(`${overlay}: ${ours.length} objects (kustomize_lite${kubectl ? ' = kubectl kustomize' : '; kubectl not installed'})`);
  }
  f.finish();
}

async function validate() {
  const f = new lib.Failures('kubernetes validate');
  const core = await import('kubernetes-models/v1');
  const apps = await import('kubernetes-models/apps/v1');
  const net = await import('kubernetes-models/networking.k8s.io/v1');
  const mon = await import('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1');
  const models = {
    'v1 ConfigMap': core.ConfigMap, 'v1 Service': core.Service, 'apps/v1 Deployment': apps.Deployment,
    'networking.k8s.io/v1 NetworkPolicy': net.NetworkPolicy,
    'monitoring.coreos.com/v1 PodMonitor': mon.PodMonitor, 'monitoring.coreos.com/v1 PrometheusRule': mon.PrometheusRule,
  };
  for (const overlay of PACKAGES) {
    const objects = kustomize.render(path.join(K8S_DIR, overlay));
    for (const o of objects) {
      const Model = models[`${o.apiVersion} ${o.kind}`];
      f.check(Model, `${overlay}: no schema for ${o.apiVersion} ${o.kind}`);
      if (!Model) continue;
      try { new Model(o).validate(); f.check(true, ''); } catch (e) { f.check(false, `${overlay}: ${key(o)} fails its schema: ${e.message}`); }
    }
    if (overlay === 'monitoring') monitoringAssertions(f, objects);
    else assertions(f, overlay.replace('overlays/', ''), objects);
  }
  f.finish();
}

// The package installed once per cluster: the rules and one ConfigMap per dashboard, in the
// namespace of kube-prometheus-stack, labelled and annotated for Grafana's dashboard sidecar.
function monitoringAssertions(f, objects) {
  const rules = objects.filter((o) => o.kind === 'PrometheusRule');
  const dashboards = objects.filter((o) => o.kind === 'ConfigMap');
  f.check(rules.length === 1 && rules[0].metadata.labels.release, 'monitoring: one PrometheusRule with a release label');
  f.check(dashboards.length === lib.listFiles(lib.DASHBOARDS_DIR, '.json').length, 'monitoring: one dashboard ConfigMap per dashboard');
  for (const cm of dashboards) {
    f.check(cm.metadata.labels.grafana_dashboard === '1' && cm.metadata.annotations.grafana_folder, `monitoring: ConfigMap ${cm.metadata.name} needs label grafana_dashboard "1" and annotation grafana_folder`);
  }
  f.check(objects.every((o) => o.metadata.namespace === 'monitoring'), 'monitoring: every object in namespace monitoring');
  f.check(objects.length === rules.length + dashboards.length, 'monitoring: nothing but the rules and the dashboards');
}

function assertions(f, overlay, objects) {
  const only = (kind) => objects.filter((o) => o.kind === kind);
  // Installed once per cluster, never with an app: a second app would duplicate them.
  f.check(only('PrometheusRule').length === 0 && only('ConfigMap').every((c) => !(c.metadata.labels || {}).grafana_dashboard), `${overlay}: rules and dashboards belong to the monitoring package, not to an app`);
  const deployments = only('Deployment');
  f.check(deployments.length === 1, `${overlay}: expected one Deployment`);
  const [deployment] = deployments;
  const pod = deployment.spec.template;
  const spec = pod.spec;
  const legacy = overlay === 'legacy-sidecar';
  const where = `${overlay}: Deployment ${deployment.metadata.name}`;
  const exporter = (legacy ? spec.containers : spec.initContainers || []).find((c) => c.name === 'beam-exporter');
  // The app container is the first one (the sidecar Component appends to it).
  const app = spec.containers[0] && spec.containers[0].name !== 'beam-exporter' ? spec.containers[0] : undefined;
  f.check(exporter, `${where}: beam-exporter is not ${legacy ? 'a regular container' : 'an init container'}`);
  f.check(app, `${where}: no app container`);
  if (!exporter || !app) return;
  if (legacy) {
    f.check(!spec.initContainers && exporter.restartPolicy === undefined, `${where}: legacy variant must have no init containers and no container restartPolicy`);
  } else {
    f.check(exporter.restartPolicy === 'Always', `${where}: native sidecar needs restartPolicy: Always`);
  }
  // Security: pod and both containers run restricted.
  f.check(spec.securityContext.runAsNonRoot === true && spec.securityContext.seccompProfile.type === 'RuntimeDefault', `${where}: pod must run as non-root with seccomp RuntimeDefault`);
  for (const c of [exporter, app]) {
    const sc = c.securityContext || {};
    f.check(!(c.env || []).some((e) => e.value && /cookie/i.test(e.name)), `${where}: container ${c.name} has a literal cookie`);
    f.check(sc.allowPrivilegeEscalation === false && sc.readOnlyRootFilesystem === true && sc.privileged === false && sc.runAsNonRoot === true, `${where}: container ${c.name} securityContext not restrictive`);
    f.check(sc.capabilities && isDeepStrictEqual(sc.capabilities.drop, ['ALL']) && !sc.capabilities.add, `${where}: container ${c.name} must drop ALL capabilities`);
  }
  // Probes: liveness /-/healthy, readiness /-/ready on the metrics port; no startupProbe (the
  // app container would wait for it) and nothing that depends on the node.
  const metricsPort = (exporter.ports || []).find((p) => p.name === 'metrics');
  f.check(metricsPort && metricsPort.protocol === 'TCP', `${where}: exporter has no TCP port named metrics`);
  f.check(exporter.livenessProbe && exporter.livenessProbe.httpGet.path === '/-/healthy' && exporter.livenessProbe.httpGet.port === 'metrics', `${where}: liveness probe must GET /-/healthy on metrics`);
  f.check(exporter.readinessProbe && exporter.readinessProbe.httpGet.path === '/-/ready' && exporter.readinessProbe.httpGet.port === 'metrics', `${where}: readiness probe must GET /-/ready on metrics`);
  f.check(!exporter.startupProbe, `${where}: exporter must not have a startupProbe`);
  for (const kind of ['requests', 'limits']) {
    f.check(exporter.resources && exporter.resources[kind] && exporter.resources[kind].cpu && exporter.resources[kind].memory, `${where}: exporter needs cpu and memory ${kind}`);
  }
  // Flags agree with the app container and the volumes.
  const flags = Object.fromEntries((exporter.args || []).map((a) => { const i = a.indexOf('='); return [a.slice(0, i), a.slice(i + 1)]; }));
  const env = Object.fromEntries((app.env || []).map((e) => [e.name, e]));
  f.check(flags['--web.listen-address'] === `:${metricsPort && metricsPort.containerPort}`, `${where}: --web.listen-address must be the metrics port`);
  f.check(env.RELEASE_DISTRIBUTION && env.RELEASE_DISTRIBUTION.value === 'name', `${where}: app must use long names (RELEASE_DISTRIBUTION=name)`);
  f.check(env.RELEASE_NODE && flags['--beam.node'] === env.RELEASE_NODE.value && /@127\.0\.0\.1$/.test(flags['--beam.node']), `${where}: --beam.node must equal RELEASE_NODE on 127.0.0.1`);
  f.check(/inet_dist_use_interface \{127,0,0,1\}/.test((env.ERL_AFLAGS || {}).value || ''), `${where}: distribution must listen on loopback only`);
  const cookieRef = env.RELEASE_COOKIE && env.RELEASE_COOKIE.valueFrom && env.RELEASE_COOKIE.valueFrom.secretKeyRef;
  const mount = (exporter.volumeMounts || []).find((m) => flags['--beam.cookie-file'] && flags['--beam.cookie-file'].startsWith(`${m.mountPath}/`));
  const volume = mount && spec.volumes.find((v) => v.name === mount.name);
  f.check(cookieRef && volume && volume.secret && volume.secret.secretName === cookieRef.name, `${where}: the cookie file must come from the app's RELEASE_COOKIE Secret`);
  f.check(volume && volume.secret.items.some((i) => i.key === cookieRef.key && flags['--beam.cookie-file'] === `${mount.mountPath}/${i.path}`), `${where}: the cookie file must be the Secret key the app reads`);
  f.check(mount && mount.readOnly === true, `${where}: the cookie volume must be mounted read-only`);
  // The root filesystem is read-only: the release writes its tmp directory to an emptyDir.
  const tmp = env.RELEASE_TMP && (app.volumeMounts || []).find((m) => m.mountPath === env.RELEASE_TMP.value);
  const tmpVolume = tmp && spec.volumes.find((v) => v.name === tmp.name);
  f.check(tmpVolume && tmpVolume.emptyDir && !tmp.readOnly, `${where}: RELEASE_TMP must be a writable emptyDir mounted in the app container`);
  f.check(/^127\.0\.0\.1:\d+$/.test(flags['--telemetry.listen-udp'] || ''), `${where}: telemetry must listen on 127.0.0.1 only`);
  f.check(!(exporter.ports || []).some((p) => p.protocol === 'UDP'), `${where}: the telemetry port must not be exposed`);
  f.check(!(exporter.env || []).some((e) => e.name === 'BEAM_EXPORTER_COOKIE' && e.value), `${where}: no literal cookie in the manifest`);
  const ann = pod.metadata.annotations || {};
  f.check(ann['prometheus.io/scrape'] === 'true' && ann['prometheus.io/port'] === String(metricsPort && metricsPort.containerPort) && ann['prometheus.io/path'] === '/metrics', `${where}: prometheus.io annotations must point at the metrics port`);
  // Service, PodMonitor, NetworkPolicy select these Pods and the metrics port.
  const selects = (selector) => selector && Object.entries(selector).every(([k, v]) => pod.metadata.labels[k] === v);
  for (const pm of only('PodMonitor')) {
    f.check(pm.spec.jobLabel && pod.metadata.labels[pm.spec.jobLabel], `${overlay}: PodMonitor ${pm.metadata.name}: the Pods need its jobLabel ${pm.spec.jobLabel}, or job is not the app`);
    f.check(pm.metadata.namespace === deployment.metadata.namespace, `${overlay}: PodMonitor ${pm.metadata.name} must be in the app's namespace`);
  }
  for (const svc of only('Service')) {
    f.check(selects(svc.spec.selector) && svc.spec.ports.some((p) => p.name === 'metrics' && p.targetPort === 'metrics'), `${overlay}: Service ${svc.metadata.name} needs a metrics port targeting the Pods`);
  }
  for (const pm of only('PodMonitor')) {
    f.check(selects(pm.spec.selector.matchLabels) && pm.spec.podMetricsEndpoints.every((e) => e.port === 'metrics' && e.path === '/metrics'), `${overlay}: PodMonitor ${pm.metadata.name} must scrape port metrics of the Pods`);
  }
  const [np] = only('NetworkPolicy');
  const example = only('Service').length > 0;  // the example app of base/ has a Service and a NetworkPolicy
  f.check(!example || (np && selects(np.spec.podSelector.matchLabels)), `${overlay}: a NetworkPolicy must select the Pods`);
  if (np) {
    const metricsRules = np.spec.ingress.filter((r) => (r.ports || []).some((p) => p.port === 'metrics' || p.port === (metricsPort && metricsPort.containerPort)));
    f.check(metricsRules.length > 0 && metricsRules.every((r) => Array.isArray(r.from) && r.from.length > 0), `${overlay}: the metrics port must be open only to listed peers (Prometheus)`);
    f.check(np.spec.ingress.every((r) => r.from || !(r.ports || []).some((p) => p.port === 'metrics')), `${overlay}: an open rule includes the metrics port`);
  }
  const operator = overlay !== 'plain-prometheus';
  f.check(only('PodMonitor').length === (operator ? 1 : 0), `${overlay}: PodMonitor ${operator ? 'missing' : 'unexpected'}`);
}

function generated() {
  const f = new lib.Failures('kubernetes generated objects');
  const tmp = lib.mkTmpDir('k8s-generated-');
  lib.run('node', [path.join(K8S_DIR, 'generate.js'), '--out', tmp]);
  for (const sub of ['monitoring', 'grafana-dashboards']) {
    for (const file of fs.readdirSync(path.join(tmp, sub))) {
      const committed = path.join(K8S_DIR, sub, file);
      const same = fs.existsSync(committed) && fs.readFileSync(committed, 'utf8') === fs.readFileSync(path.join(tmp, sub, file), 'utf8');
      f.check(same, `deploy/kubernetes/${sub}/${file} is not what generate.js produces: run node deploy/kubernetes/generate.js`);
    }
  }
  fs.rmSync(tmp, { recursive: true });
  // Semantics, independent of the generator: the same rules and the same dashboards.
  const rule = lib.loadYaml(path.join(K8S_DIR, 'monitoring', 'prometheus-rule.yaml'));
  const plainGroups = lib.listFiles(lib.RULES_DIR, '.yml').flatMap((file) => lib.loadYaml(file).groups);
  f.check(isDeepStrictEqual(rule.spec.groups, plainGroups), 'PrometheusRule spec.groups differ from deploy/prometheus/rules/*.yml');
  for (const { file, json } of lib.loadDashboards()) {
    const name = path.basename(file);
    const cmFile = path.join(K8S_DIR, 'grafana-dashboards', name.replace(/\.json$/, '.yaml'));
    const cm = fs.existsSync(cmFile) ? lib.loadYaml(cmFile) : null;
    f.check(cm && cm.data && cm.data[name] && isDeepStrictEqual(JSON.parse(cm.data[name]), json), `ConfigMap for ${name} does not hold grafana/dashboards/${name}`);
  }
  f.finish();
}

// deploy/prometheus/prometheus-kubernetes.yml: Debian's Prometheus is built without the
// Kubernetes service discovery, so the check swaps kubernetes_sd_configs for an equivalent
// static_configs and lets promtool check everything else (relabel regexes, rule files).
function scrapeConfig() {
  const f = new lib.Failures('plain Prometheus scrape config');
  const source = path.join(lib.ROOT, 'deploy', 'prometheus', 'prometheus-kubernetes.yml');
  const config = lib.loadYaml(source);
  const job = config.scrape_configs.find((j) => j.kubernetes_sd_configs);
  f.check(job && isDeepStrictEqual(job.kubernetes_sd_configs, [{ role: 'pod' }]), 'the scrape job must use kubernetes_sd_configs role pod');
  const actions = (job.relabel_configs || []).map((r) => r.source_labels && r.source_labels.join(','));
  f.check(actions.includes('__meta_kubernetes_pod_annotation_prometheus_io_scrape') && actions.includes('__address__,__meta_kubernetes_pod_annotation_prometheus_io_port') && actions.includes('__meta_kubernetes_pod_annotation_prometheus_io_path'), 'the usual prometheus.io/scrape, port and path annotations must be honoured');
  delete job.kubernetes_sd_configs;
  job.static_configs = [{ targets: ['127.0.0.1:9568'] }];
  const tmp = lib.mkTmpDir('scrape-config-');
  fs.symlinkSync(lib.RULES_DIR, path.join(tmp, 'rules'));
  fs.writeFileSync(path.join(tmp, 'prometheus.yml'), lib.yaml.dump(config));
  try { lib.run('promtool', ['check', 'config', path.join(tmp, 'prometheus.yml')]); f.check(true, ''); } catch (e) { f.check(false, `promtool check config: ${e.stdout}${e.stderr}`); }
  fs.rmSync(tmp, { recursive: true });
  f.finish();
}

const modes = { render, validate, generated, 'scrape-config': scrapeConfig };
const mode = modes[process.argv[2]];
if (!mode) { console.error('usage: check_kubernetes.js render|validate|generated|scrape-config'); process.exit(2); }
Promise.resolve(mode()).catch((e) => { console.error(e.stack || e); process.exit(1); });
