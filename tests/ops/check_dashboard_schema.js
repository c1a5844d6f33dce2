#!/usr/bin/env node
// Type-checks every dashboard against Grafana's own dashboard schema (@grafana/schema, the
// TypeScript types Grafana generates from its CUE schema): each JSON file becomes
// `export const d = (<json>) satisfies Loose<Dashboard>;` and `tsc --noEmit --strict` must accept
// it. Excess-property checks catch misspelt keys (gridPoss, datasourcee) and wrong value types.
// `Loose` turns the schema's string enums into their literal values, as JSON has no enums.
'use strict';

const fs = require('fs');
const path = require('path');
const lib = require('./lib');

const f = new lib.Failures('dashboard schema');
const tmp = lib.mkTmpDir('dashboard-schema-');
const files = [];
for (const { file, json } of lib.loadDashboards()) {
  const name = path.basename(file, '.json').replace(/[^a-z0-9]/gi, '_');
  const ts = path.join(tmp, `${name}.ts`);
  fs.writeFileSync(ts, `import type { Dashboard } from '@grafana/schema';
type Loose<T> = T extends string ? \`\${T}\` : T extends readonly (infer U)[] ? Loose<U>[] : T extends object ? { [K in keyof T]: Loose<T[K]> } : T;
export const d = (${JSON.stringify(json, null, 2)}) satisfies Loose<Dashboard>;
`);
  files.push(ts);
}
fs.writeFileSync(path.join(tmp, 'tsconfig.json'), JSON.stringify({
  compilerOptions: { strict: true, noEmit: true, target: 'es2020', module: 'commonjs', moduleResolution: 'node',
    skipLibCheck: true, typeRoots: [], baseUrl: __dirname, paths: { '@grafana/schema': [path.join(__dirname, 'node_modules/@grafana/schema/dist/types/index.d.ts')] } },
  files,
}));
try {
  lib.run(process.execPath, [path.join(__dirname, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(tmp, 'tsconfig.json')]);
  f.check(true, '');
} catch (e) {
  f.check(false, `tsc rejects the dashboards:\n${(e.stdout || '') + (e.stderr || '')}`.replace(new RegExp(tmp, 'g'), 'grafana/dashboards'));
}
f.check(files.length >= 6, `only ${files.length} dashboards checked`);
fs.rmSync(tmp, { recursive: true });
f.finish();
