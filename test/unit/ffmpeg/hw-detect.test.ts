import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { detectHardware } from '../../../src/ffmpeg/hw-detect.js';

test('detectHardware reads /dev/nvidiaN, /dev/dri/renderD* and sysfs vendor/driver from the given roots', async (t) => {
  const root = await mkdtemp(path.join(tmpdir(), 'flux-hw-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const dev = path.join(root, 'dev');
  const sys = path.join(root, 'sys');
  await mkdir(path.join(dev, 'dri'), { recursive: true });
  for (const f of ['nvidia0', 'nvidia1', 'nvidiactl', 'nvidia-uvm', 'dri/renderD128', 'dri/renderD129', 'dri/card0']) await writeFile(path.join(dev, f), '');
  await mkdir(path.join(sys, 'renderD128', 'device'), { recursive: true });
  await writeFile(path.join(sys, 'renderD128', 'device', 'vendor'), '0x8086\n');
  await writeFile(path.join(sys, 'renderD128', 'device', 'uevent'), 'DRIVER=i915\nPCI_ID=8086:46A6\n');
  const hw = await detectHardware({ devDir: dev, sysDrmDir: sys, nvidiaSmi: false });
  assert.deepEqual(hw.nvidia.devices, [path.join(dev, 'nvidia0'), path.join(dev, 'nvidia1')]);
  assert.deepEqual(hw.renderNodes, [
    { path: path.join(dev, 'dri', 'renderD128'), vendor: '0x8086', driver: 'i915' },
    { path: path.join(dev, 'dri', 'renderD129') },
  ]);
});

test('detectHardware on a machine tree without GPUs finds nothing', async (t) => {
  const root = await mkdtemp(path.join(tmpdir(), 'flux-hw-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const hw = await detectHardware({ devDir: root, sysDrmDir: root, nvidiaSmi: false });
  assert.deepEqual(hw, { nvidia: { devices: [], smiGpus: [] }, renderNodes: [] });
});
