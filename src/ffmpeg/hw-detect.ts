/**
 * Hardware presence checks that need no GPU work: device nodes and (for NVIDIA) `nvidia-smi -L`.
 * A backend is usable when its encoder is compiled into ffmpeg AND its device is present
 * (see `hwSupport` in caps.ts).
 */
import { runCommand, runFailure } from '../core/run.js';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

export interface RenderNode {
  /** /dev/dri/renderD128 */
  path: string;
  /** PCI vendor id from sysfs: 0x8086 Intel, 0x1002 AMD, 0x10de NVIDIA (when readable) */
  vendor?: string;
  /** kernel driver name from sysfs (i915, xe, amdgpu, nouveau…) when readable */
  driver?: string;
}

export interface HardwareInfo {
  nvidia: {
    /** /dev/nvidia0, /dev/nvidia1 … */
    devices: string[];
    /** GPUs listed by `nvidia-smi -L` (asked only when no /dev/nvidiaN exists) */
    smiGpus: string[];
  };
  renderNodes: RenderNode[];
}

export interface HardwareProbeOptions {
  /** root of /dev (tests point it at a fake tree) */
  devDir?: string;
  /** root of /sys/class/drm */
  sysDrmDir?: string;
  /** run nvidia-smi when no /dev/nvidiaN exists (default true) */
  nvidiaSmi?: boolean;
}

export const VENDOR_NAMES: Record<string, string> = { '0x8086': 'Intel', '0x1002': 'AMD', '0x10de': 'NVIDIA' };

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

async function readTrim(file: string): Promise<string | undefined> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

async function nvidiaSmiList(): Promise<string[]> {
  const r = await runCommand('nvidia-smi', ['-L'], { timeoutMs: 3000 });
  if (runFailure(r)) return [];
  return r.stdout
    .toString('utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^GPU \d+/.test(l));
}

export async function detectHardware(opts: HardwareProbeOptions = {}): Promise<HardwareInfo> {
  const devDir = opts.devDir ?? '/dev';
  const sysDrm = opts.sysDrmDir ?? '/sys/class/drm';
  const devices = (await listDir(devDir))
    .filter((n) => /^nvidia\d+$/.test(n))
    .sort((a, b) => Number(a.slice(6)) - Number(b.slice(6)))
    .map((n) => path.join(devDir, n));
  const smiGpus = devices.length === 0 && opts.nvidiaSmi !== false ? await nvidiaSmiList() : [];
  const renderNodes: RenderNode[] = [];
  const dri = path.join(devDir, 'dri');
  for (const n of (await listDir(dri)).filter((x) => /^renderD\d+$/.test(x)).sort()) {
    const node: RenderNode = { path: path.join(dri, n) };
    const vendor = await readTrim(path.join(sysDrm, n, 'device', 'vendor'));
    if (vendor) node.vendor = vendor.toLowerCase();
    const uevent = await readTrim(path.join(sysDrm, n, 'device', 'uevent'));
    const drv = uevent && /^DRIVER=(.+)$/m.exec(uevent);
    if (drv) node.driver = drv[1];
    renderNodes.push(node);
  }
  return { nvidia: { devices, smiGpus }, renderNodes };
}
