// Renders a Kustomize directory offline, for machines without kubectl (Debian 12 does not
// package kubectl or kustomize). It implements only what deploy/kubernetes uses: `resources`
// (files and directories, recursively) and `patches` with a `target` (kind/name) and an inline
// JSON 6902 patch (add, remove, replace, move). Anything else is rejected, never ignored.
// Where kubectl exists, tests/ops/check_kubernetes.js compares this output with
// `kubectl kustomize`, so the two cannot drift apart unnoticed.
'use strict';

const fs = require('fs');
const path = require('path');
const yaml = require('js-yaml');

const SUPPORTED_KEYS = new Set(['apiVersion', 'kind', 'resources', 'patches']);

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

function render(dir) {
  const kustomization = yaml.load(fs.readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8'));
  for (const key of Object.keys(kustomization)) {
    if (!SUPPORTED_KEYS.has(key)) throw new Error(`${dir}/kustomization.yaml: field ${key} is not supported by kustomize_lite`);
  }
  const objects = [];
  for (const resource of kustomization.resources || []) {
    const p = path.resolve(dir, resource);
    if (fs.statSync(p).isDirectory()) objects.push(...render(p));
    else objects.push(...yaml.loadAll(fs.readFileSync(p, 'utf8')).filter(Boolean));
  }
  for (const patch of kustomization.patches || []) {
    const target = patch.target || {};
    if (!patch.patch || Object.keys(target).some((k) => !['kind', 'name'].includes(k))) {
      throw new Error(`${dir}: only inline JSON 6902 patches with a kind/name target are supported`);
    }
    const matches = objects.filter((o) => (!target.kind || o.kind === target.kind) && (!target.name || o.metadata.name === target.name));
    if (matches.length === 0) throw new Error(`${dir}: patch target ${JSON.stringify(target)} matches nothing`);
    for (const o of matches) applyJson6902(o, yaml.load(patch.patch));
  }
  return objects;
}

module.exports = { render, applyJson6902 };
