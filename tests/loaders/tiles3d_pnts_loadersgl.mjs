// Independent read of one pnts tile with @loaders.gl/3d-tiles (Draco through the local
// draco3d package, no network). usage: node tests/loaders/tiles3d_pnts_loadersgl.mjs FILE
// prints JSON: pointCount, positions (with RTC_CENTER added), colors (RGB), the
// Draco-compressed batch column Intensity (when it is there).
import {readFile} from 'node:fs/promises';
import {parse} from '@loaders.gl/core';
import {Tiles3DLoader} from '@loaders.gl/3d-tiles';
import draco3d from 'draco3d';

const buf = await readFile(process.argv[2]);
const tile = await parse(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length),
  Tiles3DLoader, {worker: false, modules: {draco3d}, draco: {worker: false},
    '3d-tiles': {decodeQuantizedPositions: true}});
const raw = tile.attributes.positions;  // (a bare typed array after Draco)
const pos = raw.value || raw;
const rtc = tile.rtcCenter ? Array.from(tile.rtcCenter) : [0, 0, 0];
const positions = [];
for (let i = 0; i < pos.length; i += 3)
  positions.push([pos[i] + rtc[0], pos[i + 1] + rtc[1], pos[i + 2] + rtc[2]]);
const col = tile.attributes.colors;
const size = col ? col.size : 0;
const colors = [];
if (col) for (let i = 0; i < col.value.length; i += size)
  colors.push([col.value[i], col.value[i + 1], col.value[i + 2]]);
const intensity = tile.attributes.intensity ?
  Array.from(tile.attributes.intensity.value || tile.attributes.intensity) : null;
process.stdout.write(JSON.stringify({pointCount: tile.pointCount ?? tile.pointsLength,
  positions, colors, isQuantized: !!tile.isQuantized, intensity,
  attributes: Object.keys(tile.attributes)}));
