import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { readPreference } from '@mwt/core';
import { CONFIG_VARS, readConfig } from '@mwt/shared';

/**
 * No Docker engine runs where the tests run, so docker-compose.yml and Dockerfile.gpu are checked
 * by reading them against the code's own configuration.
 */
interface ComposeService {
  image?: string;
  build?: { dockerfile: string };
  command?: string[];
  init?: boolean;
  environment?: Record<string, string>;
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  deploy?: { resources: { reservations: { devices: { driver: string; capabilities: string[] }[] } } };
}

const compose = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as { services: Record<string, ComposeService> };
const dockerfile = readFileSync('Dockerfile.gpu', 'utf8');
const rootPackage = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> };
const corePackage = JSON.parse(readFileSync('packages/core/package.json', 'utf8')) as { optionalDependencies: Record<string, string> };
const knownVars = new Set([...CONFIG_VARS.map((v) => v.name), 'MWT_BACKEND', 'MWT_DATA_DIR', 'MWT_QUIET', 'NODE_ENV']);

describe('docker-compose.yml and Dockerfile.gpu', () => {
  const { services } = compose;

  it('has postgres, redis, migrations, api and a GPU worker', () => {
    for (const name of ['postgres', 'redis', 'migrate', 'api', 'worker']) assert.ok(services[name], name);
    const devices = services.worker.deploy?.resources.reservations.devices ?? [];
    assert.ok(
      devices.some((d) => d.driver === 'nvidia' && d.capabilities.includes('gpu')),
      'worker reserves an NVIDIA GPU',
    );
    // The code's own parser accepts the worker's backend choice.
    assert.equal(readPreference({ MWT_BACKEND: services.worker.environment?.MWT_BACKEND }), 'tensorflow-gpu');
  });

  it('runs the package scripts that exist, and only sets variables the code reads, with valid values', () => {
    for (const name of ['migrate', 'api', 'worker']) {
      const service = services[name];
      const command = service.command ?? [];
      if (name === 'migrate') {
        const [npm, run, script] = command;
        assert.equal(`${npm} ${run}`, 'npm run', name);
        assert.ok(rootPackage.scripts[script], `${name} runs npm script ${script}, which package.json lacks`);
      } else {
        // The long-running services are node itself (npm would not pass `docker stop`'s SIGTERM on),
        // on the compiled entry, whose workspace packages resolve to their dist/ too.
        assert.deepEqual(command, ['node', '--conditions=production', `apps/${name}/dist/main.js`], `${name} runs node directly on its dist/`);
        assert.ok(existsSync(`apps/${name}/src/main.ts`), `${name}'s entry's source apps/${name}/src/main.ts exists`);
      }
      for (const variable of Object.keys(service.environment ?? {})) assert.ok(knownVars.has(variable), `${name} sets ${variable}, which no code reads`);
      // The code's own parser accepts every value.
      readConfig(service.environment ?? {});
    }
  });

  it("runs node as the image's command in exec form, under an init that forwards signals", () => {
    const cmd = /^CMD (.*)$/m.exec(dockerfile)?.[1];
    assert.ok(cmd?.startsWith('['), `exec-form CMD (a JSON array), not a shell: ${cmd}`);
    assert.deepEqual(JSON.parse(cmd ?? '') as string[], ['node', '--conditions=production', 'apps/api/dist/main.js']);
    // The image compiles what CMD runs, after the sources and the Prisma client are in, and brings no
    // host build over it.
    const build = dockerfile.indexOf('npm run build');
    assert.ok(build > dockerfile.indexOf('COPY . .') && build > dockerfile.indexOf('npx prisma generate'), 'the image runs npm run build after COPY . . and prisma generate');
    assert.ok(readFileSync('.dockerignore', 'utf8').split('\n').includes('**/dist'), '.dockerignore lists **/dist');
    for (const name of ['migrate', 'api', 'worker']) assert.equal(services[name].init, true, `${name} has init: true`);
  });

  it('points the services at the compose postgres and redis, and publishes the API port', () => {
    const db = services.postgres.environment?.POSTGRES_DB;
    for (const name of ['migrate', 'api', 'worker']) {
      const config = readConfig(services[name].environment ?? {});
      const url = new URL(config.databaseUrl);
      assert.equal(url.hostname, 'postgres');
      assert.equal(url.pathname, `/${db}`);
      assert.equal(new URL(config.redisUrl).hostname, 'redis');
      assert.ok(services[name].depends_on?.[name === 'migrate' ? 'postgres' : 'migrate'], `${name} waits for its dependency`);
    }
    // A published API requires API keys.
    assert.equal(readConfig(services.api.environment ?? {}).auth, 'enabled');
    const apiPort = readConfig(services.api.environment ?? {}).port;
    assert.ok(
      services.api.ports?.some((p) => p.endsWith(`:${apiPort}`)),
      'api publishes its PORT',
    );
    assert.match(dockerfile, new RegExp(`^EXPOSE ${apiPort}$`, 'm'));
  });

  it('builds on the CUDA/cuDNN that tfjs-node-gpu 4.22 (libtensorflow 2.9.1) needs, with Node 22', () => {
    assert.equal(services.migrate.build?.dockerfile, 'Dockerfile.gpu');
    // CUDA 11 from 11.2 on (libtensorflow 2.9.1's sonames) with cuDNN 8, on Ubuntu 22.04: glibc 2.35,
    // where Dawn's dawn.node (the webgpu backend) needs >= 2.34.
    const base = /^FROM nvidia\/cuda:11\.(\d+)\.\d+-cudnn8-runtime-ubuntu(\d+\.\d+)$/m.exec(dockerfile);
    assert.ok(base, 'the image builds FROM an nvidia/cuda 11.x cudnn8 runtime image');
    assert.ok(Number(base[1]) >= 2, `CUDA 11.${base[1]} is older than libtensorflow's 11.2`);
    assert.ok(Number(base[2]) >= 22.04, `Ubuntu ${base[2]}'s glibc is older than dawn.node's 2.34`);
    assert.match(dockerfile, /^FROM node:22/m);
    // cookie 2 (fastify -> light-my-request) requires Node 22, and so does the service.
    assert.equal((JSON.parse(readFileSync('package.json', 'utf8')) as { engines: { node: string } }).engines.node, '>=22');
    const gpuVersion = corePackage.optionalDependencies['@tensorflow/tfjs-node-gpu'];
    assert.equal(gpuVersion, '4.22.0');
    assert.ok(dockerfile.includes(`@tensorflow/tfjs-node-gpu@${gpuVersion}`), 'the image checks the tfjs-node-gpu version the code declares');
    assert.match(dockerfile, /npx prisma generate/);
  });

  it("carries the Vulkan loader and NVIDIA's Vulkan driver entry, so that MWT_BACKEND=webgpu reaches the GPU too", () => {
    assert.equal(readPreference({ MWT_BACKEND: 'webgpu' }), 'webgpu');
    const apt = dockerfile.split('\n').find((line) => line.includes('apt-get install'));
    assert.ok(apt?.split(/\s+/).includes('libvulkan1'), 'the image installs the Vulkan loader (libvulkan1)');
    // The container toolkit mounts the driver's Vulkan library (libGLX_nvidia) only with `graphics`.
    const capabilities = /^ENV NVIDIA_DRIVER_CAPABILITIES=(\S+)$/m.exec(dockerfile)?.[1]?.split(',') ?? [];
    for (const capability of ['compute', 'utility', 'graphics']) assert.ok(capabilities.includes(capability), `NVIDIA_DRIVER_CAPABILITIES has ${capability}`);
    // The ICD entry the loader reads, pointing at that library; valid JSON once printf has unescaped it.
    const icd = /printf '(\{.*\})\\n'\s*\\\s*>\/usr\/share\/vulkan\/icd\.d\/nvidia_icd\.json/m.exec(dockerfile)?.[1];
    assert.ok(icd, 'the image writes /usr/share/vulkan/icd.d/nvidia_icd.json');
    const entry = JSON.parse(icd) as { ICD?: { library_path?: string } };
    assert.equal(entry.ICD?.library_path, 'libGLX_nvidia.so.0');
    // The webgpu packages are ordinary dependencies: npm ci installs them with the rest.
    const deps = (JSON.parse(readFileSync('packages/core/package.json', 'utf8')) as { dependencies: Record<string, string> }).dependencies;
    for (const name of ['webgpu', '@tensorflow/tfjs-backend-webgpu']) assert.ok(deps[name], `@mwt/core depends on ${name}`);
  });

  it("copies every workspace package (and the native kernels' sources) before npm ci installs them", () => {
    const install = dockerfile.indexOf('RUN npm ci');
    assert.ok(install > 0, 'the image runs npm ci');
    // Every workspace there is: npm ci refuses a lock file that names one the image lacks.
    const workspaces = ['apps', 'packages'].flatMap((root) => readdirSync(root).map((name) => `${root}/${name}`)).filter((dir) => existsSync(`${dir}/package.json`));
    assert.ok(workspaces.includes('apps/api') && workspaces.includes('packages/native'));
    for (const dir of workspaces) {
      const copy = dockerfile.search(new RegExp(`^COPY ${dir}/(package\\.json)? ${dir}/$`, 'm'));
      assert.ok(copy >= 0 && copy < install, `${dir} is copied before npm ci`);
    }
    assert.ok(dockerfile.indexOf('COPY packages/native/ packages/native/') < install, 'the native sources are there when their install script builds them');
    // `COPY . .` comes after the install: it must not bring the host's modules or builds over the image's.
    const ignored = readFileSync('.dockerignore', 'utf8')
      .split('\n')
      .map((line) => line.trim());
    for (const path of ['node_modules', 'packages/native/build']) assert.ok(ignored.includes(path), `.dockerignore lists ${path}`);
  });
});
