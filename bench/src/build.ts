/**
 * bench/build: a real Maven project with real dependencies from Maven Central, built by
 * the build pipeline (clone, compile in the Maven builder image, buildah image, push):
 * cold (empty dependency cache) vs warm (the project's own cache, as a repeat build on
 * its agent gets it), and placement affinity of rendezvous hashing over live agents in
 * etcd with builds arriving concurrently (a busy home agent sends a build elsewhere).
 */

import { BuildDispatcher, type BuildTask, runPipeline } from '@leengine/build';
import { buildahStorage, gitRepo, tempDir } from '@leengine/build/testing';
import { Testbed } from '@leengine/testbed';
import { Etcd3 } from 'etcd3';
import pino from 'pino';
import { pushMavenBuilder } from '../../packages/build/src/testing/mavenBuilder.ts';

const quick = process.argv.includes('--quick');
const figure = (name: string, value: number, unit: string) => console.log(`figure ${name} ${value} ${unit}`);

const POM = `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>bench</groupId>
  <artifactId>hello</artifactId>
  <version>1.0</version>
  <packaging>jar</packaging>
  <properties>
    <maven.compiler.release>17</maven.compiler.release>
    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
  </properties>
  <dependencies>
    <dependency><groupId>com.google.guava</groupId><artifactId>guava</artifactId><version>33.3.1-jre</version></dependency>
    <dependency><groupId>com.fasterxml.jackson.core</groupId><artifactId>jackson-databind</artifactId><version>2.18.1</version></dependency>
    <dependency><groupId>org.apache.commons</groupId><artifactId>commons-lang3</artifactId><version>3.17.0</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-simple</artifactId><version>2.0.16</version></dependency>
  </dependencies>
  <build>
    <plugins>
      <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-compiler-plugin</artifactId><version>3.13.0</version></plugin>
      <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-resources-plugin</artifactId><version>3.3.1</version></plugin>
      <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-jar-plugin</artifactId><version>3.4.2</version></plugin>
      <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-surefire-plugin</artifactId><version>3.5.2</version></plugin>
      <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-dependency-plugin</artifactId><version>3.8.1</version></plugin>
    </plugins>
  </build>
</project>
`;
const MAIN = `package bench;
import com.google.common.base.Joiner;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.commons.lang3.StringUtils;
public class Main {
  public static void main(String[] args) throws Exception {
    System.out.println(new ObjectMapper().writeValueAsString(Joiner.on(",").join(StringUtils.split("a b c"))));
  }
}
`;

const testbed = new Testbed({ handleSignals: true });
const work = tempDir('bench-build');
try {
  const registry = await testbed.registry();
  const t0 = Date.now();
  const builder = await pushMavenBuilder(registry.host, work.path);
  console.log(
    `# builder image ${builder.ref}: ${builder.sizeMiB} MiB rootfs, assembled and pushed in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
  const repo = gitRepo(`${work.path}/repo`, {
    'pom.xml': POM,
    'src/main/java/bench/Main.java': MAIN,
    Dockerfile: `FROM ${builder.ref}\nCOPY target/hello-1.0.jar /app/hello.jar\nCMD ["java", "-jar", "/app/hello.jar"]\n`,
  });
  const compile = ['mvn', '-B', '-ntp', 'package', 'dependency:copy-dependencies', '-DskipTests'];
  let n = 0;
  const build = async (useCache: boolean): Promise<number> => {
    n++;
    const task: BuildTask = {
      taskId: `bench-${n}`,
      buildId: n,
      project: 'maven-hello',
      gitUrl: repo,
      branch: 'main',
      dockerfilePath: 'Dockerfile',
      contextPath: '.',
      compile: { image: builder.ref, command: compile, cachePath: '/root/.m2' },
      useCache,
      image: `${registry.host}/bench/maven-hello`,
      tag: `b${n}`,
      registryInsecure: true,
      timeoutSeconds: 1800,
    };
    const steps: Record<string, number> = {};
    const started = Date.now();
    let tail = '';
    const result = await runPipeline(
      task,
      {
        workRoot: `${work.path}/agent`,
        buildahArgs: buildahStorage(`${work.path}/buildah`),
        allowLocalRepositories: true,
        registryCredential: async () => null,
        emit: (e) => {
          if (e.type === 'step-finished') steps[e.step] = e.durationMs;
          if (e.type === 'output') tail = (tail + e.text).slice(-2000);
        },
      },
      new AbortController().signal,
    );
    const seconds = (Date.now() - started) / 1000;
    if (result.status !== 'succeeded')
      throw new Error(`build ${n} ${result.status}: ${result.error}\n${tail}`);
    const parts = Object.entries(steps)
      .map(([s, ms]) => `${s} ${(ms / 1000).toFixed(1)}s`)
      .join(', ');
    console.log(`# build ${n} (${useCache ? 'warm' : 'cold'}): ${seconds.toFixed(1)} s (${parts})`);
    return seconds;
  };

  // Warm-up: the builder and FROM image land in buildah's storage (a build host keeps them).
  await build(true);
  const rounds = quick ? 1 : 3;
  const cold: number[] = [];
  const warm: number[] = [];
  for (let i = 0; i < rounds; i++) {
    cold.push(await build(false));
    warm.push(await build(true));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  const c = median(cold);
  const w = median(warm);
  figure('maven_cold', Number(c.toFixed(1)), 's');
  figure('maven_warm', Number(w.toFixed(1)), 's');
  figure('warm_speedup_ratio', Number((c / w).toFixed(2)), 'x');

  // ---- placement affinity: 4 agents (capacity 2) in etcd, 40 repositories, builds arriving
  // 6 at a time with random durations; % of builds placed on the repository's home agent.
  const etcdHandle = await testbed.etcd();
  const etcd = new Etcd3({ hosts: etcdHandle.url });
  const agents = ['agent-1', 'agent-2', 'agent-3', 'agent-4'];
  for (const id of agents) {
    const lease = etcd.lease(30);
    await lease.put(`/leengine/build/agents/${id}`).value(
      JSON.stringify({
        agentId: id,
        capacity: 2,
        labels: {},
        version: 'bench',
        startedAt: new Date().toISOString(),
      }),
    );
  }
  const dispatcher = new BuildDispatcher({
    etcd,
    logger: pino({ level: 'silent' }),
    events: { agentGone: () => {}, taskGone: () => {}, capacityChanged: () => {} },
  });
  await dispatcher.start();
  const { rendezvousOrder } = await import('@leengine/build');
  const total = quick ? 200 : 1000;
  let home = 0;
  let placed = 0;
  const inFlight = new Set<Promise<void>>();
  for (let i = 0; i < total; i++) {
    const repository = `git@gitlab.example:team/repo-${Math.floor(Math.random() * 40)}.git`;
    let agentId = dispatcher.pick(repository);
    while (!agentId) {
      await Promise.race(inFlight);
      agentId = dispatcher.pick(repository);
    }
    const taskId = `t${i}`;
    const ok = await dispatcher.assign(agentId, { taskId } as BuildTask);
    if (!ok) throw new Error('assign failed');
    placed++;
    if (agentId === rendezvousOrder(repository, agents)[0]) home++;
    const p: Promise<void> = new Promise<void>((r) => setTimeout(r, 5 + Math.random() * 40))
      .then(() => dispatcher.cancel(agentId as string, taskId))
      .then(async () => {
        // wait until the watch saw the deletion
        while (
          dispatcher
            .agents()
            .find((a) => a.registration.agentId === agentId)
            ?.tasks.has(taskId)
        )
          await new Promise((r) => setTimeout(r, 2));
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= 6) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  figure('placement_affinity', Number(((100 * home) / placed).toFixed(1)), '%');
  await dispatcher.stop();
  etcd.close();
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  await testbed.stop();
  work.remove();
}
