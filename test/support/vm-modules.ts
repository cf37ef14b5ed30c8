import * as vm from 'node:vm';

// NestJS ships ES modules only; Jest can load them into a unit spec only through node:vm's module API.
if (!(vm as { SourceTextModule?: unknown }).SourceTextModule) {
  throw new Error(
    'Unit specs need node --experimental-vm-modules: run them through npm, e.g. npm run jest -- src/x.spec.ts',
  );
}
