// Independent read-back of a 3D Tiles tileset with @loaders.gl/3d-tiles (under node).
// usage: node tests/heritage/tiles3d_loadersgl_read.mjs TILESET_JSON
// prints JSON: tiles walked, points, triangles, content bounds in the tileset frame
// (z-up, i.e. after glTF's y-up -> z-up), property names per content, feature counts.
import {readFile} from 'node:fs/promises';
import path from 'node:path';
import {parse} from '@loaders.gl/core';
import {Tiles3DLoader} from '@loaders.gl/3d-tiles';

const tilesetPath = path.resolve(process.argv[2]);
const base = path.dirname(tilesetPath);
const json = await readFile(tilesetPath);
const tileset = await parse(json.buffer.slice(json.byteOffset, json.byteOffset + json.length),
  Tiles3DLoader, {}, {url: tilesetPath, baseUrl: base});
const out = {type: tileset.type, lodMetricType: tileset.lodMetricType, tiles: 0, contents: 0,
  points: 0, triangles: 0, min: [Infinity, Infinity, Infinity],
  max: [-Infinity, -Infinity, -Infinity], attributes: [], metadataClasses: [], features: 0,
  errors: [], refine: []};
const attrs = new Set();
const classes = new Set();

function mul(a, b) { // column-major 4x4
  const r = new Array(16).fill(0);
  for (let c = 0; c < 4; c++) for (let rr = 0; rr < 4; rr++)
    for (let k = 0; k < 4; k++) r[c * 4 + rr] += a[k * 4 + rr] * b[c * 4 + k];
  return r;
}
const I = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];

async function walk(tile, parentError) {
  out.tiles++;
  if (tile.refine) out.refine.push(tile.refine);
  const err = tile.geometricError ?? tile.lodMetricValue;
  if (parentError !== undefined && err > parentError) out.errors.push(err);
  const uri = tile.contentUrl || tile.content?.uri;
  if (uri) {
    const file = uri.startsWith('/') ? uri : path.join(base, uri);
    const buf = await readFile(file);
    const content = await parse(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length),
      Tiles3DLoader, {'3d-tiles': {loadGLTF: true}});
    out.contents++;
    const gltf = content.gltf;
    for (const node of gltf.nodes || []) {
      const t = node.translation || [0, 0, 0];
      const mesh = node.mesh;
      if (!mesh) continue;
      for (const prim of mesh.primitives) {
        const pos = prim.attributes.POSITION;
        const v = pos.value;
        const n = v.length / 3;
        for (const k of Object.keys(prim.attributes)) attrs.add(k);
        if (prim.mode === 0) out.points += n;
        else if (prim.indices) out.triangles += prim.indices.value.length / 3;
        else out.triangles += n / 3;
        for (let i = 0; i < n; i++) {
          // glTF y-up -> tileset z-up: (x, y, z) -> (x, -z, y)
          const x = v[3 * i] + t[0], y = v[3 * i + 1] + t[1], z = v[3 * i + 2] + t[2];
          const p = [x, -z, y];
          for (let a = 0; a < 3; a++) {
            if (p[a] < out.min[a]) out.min[a] = p[a];
            if (p[a] > out.max[a]) out.max[a] = p[a];
          }
        }
        const fids = prim.extensions?.EXT_mesh_features?.featureIds;
        if (fids) for (const f of fids) out.features += f.featureCount;
      }
    }
    const meta = gltf.extensions?.EXT_structural_metadata;
    if (meta?.schema?.classes) for (const c of Object.keys(meta.schema.classes)) classes.add(c);
  }
  for (const child of tile.children || []) await walk(child, err);
}
await walk(tileset.root);
out.attributes = [...attrs].sort();
out.metadataClasses = [...classes].sort();
out.rootTransform = tileset.root.transform ?? null;
out.refine = [...new Set(out.refine)];
console.log(JSON.stringify(out));
