import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { Buildah } from '@leengine/testbed';

const JDK = '/usr/lib/jvm/java-17-openjdk-amd64';
/** Modules Maven and javac need, plus TLS (Maven Central) and zip file systems. */
const MODULES = 'java.se,jdk.compiler,jdk.zipfs,jdk.unsupported,jdk.crypto.ec,jdk.charsets,jdk.localedata';

/**
 * A Maven builder image assembled from this host (no public registry): Debian's static
 * busybox for a shell, a JDK 17 trimmed with jlink to what Maven and javac need, Debian's
 * Maven 3 with its jars, the CA certificates, and the glibc libraries they link. Pushed as
 * `{registryHost}/base/maven:3-jdk17`; returns the reference and the rootfs size in MiB.
 */
export async function pushMavenBuilder(
  registryHost: string,
  workDir: string,
): Promise<{ ref: string; sizeMiB: number }> {
  const rootfs = join(workDir, 'maven-rootfs');
  rmSync(rootfs, { recursive: true, force: true });
  for (const d of ['bin', 'tmp', 'etc', 'root', 'opt', 'lib64', 'lib/x86_64-linux-gnu', 'workspace']) {
    mkdirSync(join(rootfs, d), { recursive: true });
  }
  copyFileSync('/bin/busybox', join(rootfs, 'bin/busybox'));
  chmodSync(join(rootfs, 'bin/busybox'), 0o755);
  for (const applet of execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).split('\n')) {
    if (applet && applet !== 'busybox' && /^[a-z0-9_.[-]+$/.test(applet))
      symlinkSync('busybox', join(rootfs, 'bin', applet));
  }
  execFileSync(`${JDK}/bin/jlink`, [
    '--add-modules',
    MODULES,
    '--strip-debug',
    '--no-man-pages',
    '--no-header-files',
    '--output',
    join(rootfs, 'opt/jdk'),
  ]);
  // Debian's cacerts is a symlink into /etc; the image gets the file itself.
  rmSync(join(rootfs, 'opt/jdk/lib/security/cacerts'), { force: true });
  copyFileSync('/etc/ssl/certs/java/cacerts', join(rootfs, 'opt/jdk/lib/security/cacerts'));
  // Debian's Maven is symlinks into /usr/share/java and /etc/maven: copy what they point to.
  execFileSync('cp', ['-rL', '/usr/share/maven', join(rootfs, 'opt/maven')]);
  // glibc and friends that the JDK's binaries link.
  const libs = new Set<string>();
  const elfs = [join(rootfs, 'opt/jdk/bin/java'), join(rootfs, 'opt/jdk/bin/javac')];
  for (const dir of [join(rootfs, 'opt/jdk/lib'), join(rootfs, 'opt/jdk/lib/server')]) {
    for (const f of readdirSync(dir)) if (f.endsWith('.so')) elfs.push(join(dir, f));
  }
  for (const elf of elfs) {
    const out = execFileSync('ldd', [elf], { encoding: 'utf8' });
    for (const m of out.matchAll(/(\/lib[^\s]*\.so[^\s]*)/g))
      if (m[1] && !m[1].includes('/opt/')) libs.add(m[1]);
  }
  for (const lib of libs) {
    if (!existsSync(lib)) continue;
    const target = join(rootfs, lib);
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(lib, target);
  }
  writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\n');
  const sizeMiB = Number(execFileSync('du', ['-sm', rootfs], { encoding: 'utf8' }).split('\t')[0]);
  await using buildah = Buildah.create({ dir: join(workDir, 'maven-buildah') });
  const container = await buildah.run(['from', '--pull-never', 'scratch']);
  await buildah.run(['add', container, `${rootfs}/`, '/']);
  await buildah.run([
    'config',
    '--env',
    'PATH=/opt/maven/bin:/opt/jdk/bin:/bin',
    '--env',
    'JAVA_HOME=/opt/jdk',
    '--env',
    'MAVEN_HOME=/opt/maven',
    '--env',
    'HOME=/root',
    '--cmd',
    '["/bin/sh"]',
    container,
  ]);
  await buildah.run(['commit', '--quiet', container, 'localhost/maven-builder:1']);
  const ref = `${registryHost}/base/maven:3-jdk17`;
  await buildah.push('localhost/maven-builder:1', ref);
  rmSync(rootfs, { recursive: true, force: true });
  return { ref, sizeMiB };
}
