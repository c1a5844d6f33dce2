// Renders a Kustomize directory offline, for machines without kubectl (Debian 12 does not
// package kubectl or kustomize). It implements only what deploy/kubernetes uses: `resources`
// (files and directories, recursively), `components` (directories of kind Component, applied
// after the resources), `patches` with a `target` (kind/name) and an inline patch, either JSON
// 6902 (add, remove, replace, move) or strategic merge (maps merged, lists of named objects
// merged by name as Kubernetes' merge keys do, other lists replaced), and `namespace`, applied
// in Kustomize's order: resources, components, patches, namespace. Anything else is rejected,
// never ignored.
// Where kubectl exists, tests/ops/check_kubernetes.js compares this output with
// `kubectl kustomize`, so the two cannot drift apart unnoticed.
'use strict';

const fs = require('fs');
const path = require('path');
const yaml = require('js-yaml');

const SUPPORTED_KEYS = new Set(['apiVersion', 'kind', 'resources', 'components', 'patches', 'namespace']);

function decodePointer(pointer) {
  if (!pointer.startsWith('/')) throw new Error(`bad JSON pointer ${pointer}`);
  return pointer.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(doc, tokens, pointer) {
  let node = doc;
  for (const t of tokens.slice(0, -1)) {
    node = Array.isArray(node) ? node[Number(t)] : node[t];
    if (node === undefined) throw new Error(`path ${pointer} does not exist`);
  }
  return node;
}

function get(doc, pointer) {
  return decodePointer(pointer).reduce((node, t) => {
    const next = Array.isArray(node) ? node[Number(t)] : node && node[t];
    if (next === undefined) throw new Error(`path ${pointer} does not exist`);
    return next;
  }, doc);
}

function remove(doc, pointer) {
  const tokens = decodePointer(pointer);
  const parent = parentOf(doc, tokens, pointer);
  const last = tokens[tokens.length - 1];
  if (Array.isArray(parent)) parent.splice(Number(last), 1);
  else if (last in parent) delete parent[last];
  else throw new Error(`path ${pointer} does not exist`);
}

function add(doc, pointer, value) {
  const tokens = decodePointer(pointer);
  const parent = parentOf(doc, tokens, pointer);
  const last = tokens[tokens.length - 1];
  if (Array.isArray(parent)) {
    if (last === '-') parent.push(value);
    else parent.splice(Number(last), 0, value);
  } else {
    parent[last] = value;
  }
}

function applyJson6902(doc, ops) {
  for (const op of ops) {
    switch (op.op) {
      case 'add': add(doc, op.path, op.value); break;
      case 'remove': remove(doc, op.path); break;
      case 'replace': get(doc, op.path); remove(doc, op.path); add(doc, op.path, op.value); break;
      case 'move': { const value = get(doc, op.from); remove(doc, op.from); add(doc, op.path, value); break; }
      default: throw new Error(`JSON patch op ${op.op} is not supported by kustomize_lite`);
    }
  }
}

// Strategic merge of `patch` into `doc`: maps merge key by key; a list whose items are objects
// with a `name` merges item by item on the name (the patch's items first, in patch order, then
// the items only the document has, as kubectl kustomize orders them); any other value replaces.
function strategicMerge(doc, patch) {
  if (Array.isArray(patch)) {
    const named = (list) => Array.isArray(list) && list.every((x) => x && typeof x === 'object' && typeof x.name === 'string');
    if (!named(patch) || !named(doc || [])) return patch;
    const byName = new Map((doc || []).map((x) => [x.name, x]));
    const merged = patch.map((x) => (byName.has(x.name) ? strategicMerge(byName.get(x.name), x) : x));
    return [...merged, ...(doc || []).filter((x) => !patch.some((p) => p.name === x.name))];
  }
  if (patch && typeof patch === 'object') {
    const out = doc && typeof doc === 'object' && !Array.isArray(doc) ? { ...doc } : {};
    for (const [k, v] of Object.entries(patch)) out[k] = strategicMerge(out[k], v);
    return out;
  }
  return patch;
}

function applyPatches(dir, objects, patches) {
  for (const patch of patches || []) {
    const target = patch.target || {};
    if (!patch.patch || Object.keys(target).some((k) => !['kind', 'name'].includes(k))) {
      throw new Error(`${dir}: only inline patches with a kind/name target are supported`);
    }
    const matches = objects.filter((o) => (!target.kind || o.kind === target.kind) && (!target.name || o.metadata.name === target.name));
    if (matches.length === 0) throw new Error(`${dir}: patch target ${JSON.stringify(target)} matches nothing`);
    const body = yaml.load(patch.patch);
    for (const o of matches) {
      if (Array.isArray(body)) {
        applyJson6902(o, body);
      } else {
        // With a target, the patch's own kind and name do not select anything.
        const { apiVersion, kind, metadata: { name, ...metadata } = {}, ...rest } = body;
        const merged = strategicMerge(o, { ...rest, metadata });
        for (const k of Object.keys(o)) delete o[k];
        Object.assign(o, merged);
      }
    }
  }
}

function load(dir, expectedKind) {
  const kustomization = yaml.load(fs.readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8'));
  for (const key of Object.keys(kustomization)) {
    if (!SUPPORTED_KEYS.has(key)) throw new Error(`${dir}/kustomization.yaml: field ${key} is not supported by kustomize_lite`);
  }
  const kind = kustomization.kind || 'Kustomization';
  if (kind !== expectedKind) throw new Error(`${dir}/kustomization.yaml: kind ${kind}, expected ${expectedKind}`);
  return kustomization;
}

function addResources(dir, kustomization, objects) {
  for (const resource of kustomization.resources || []) {
    const p = path.resolve(dir, resource);
    if (fs.statSync(p).isDirectory()) objects.push(...render(p));
    else objects.push(...yaml.loadAll(fs.readFileSync(p, 'utf8')).filter(Boolean));
  }
}

function render(dir) {
  const kustomization = load(dir, 'Kustomization');
  const objects = [];
  addResources(dir, kustomization, objects);
  for (const component of kustomization.components || []) {
    const componentDir = path.resolve(dir, component);
    const c = load(componentDir, 'Component');
    if (c.components || c.namespace) throw new Error(`${componentDir}: nested components and namespace are not supported by kustomize_lite`);
    addResources(componentDir, c, objects);
    applyPatches(componentDir, objects, c.patches);
  }
  applyPatches(dir, objects, kustomization.patches);
  if (kustomization.namespace) for (const o of objects) o.metadata.namespace = kustomization.namespace;
  return objects;
}

module.exports = { render, applyJson6902, strategicMerge };
