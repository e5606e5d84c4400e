import { ActivityList } from '../components/ActivityList.tsx';
import { ResourceList } from '../components/ResourceList.tsx';
import { applicationKind, buildProjectKind, imageGroupKind, imageRepositoryKind } from '../resources.ts';

/** Everything I created or take part in, and what happened lately. */
export function HomePage() {
  return (
    <div className="home">
      <div className="grid">
        <ResourceList spec={applicationKind} />
        <ResourceList spec={imageRepositoryKind} />
        <ResourceList spec={imageGroupKind} />
        <ResourceList spec={buildProjectKind} />
      </div>
      <section>
        <h2>Recent activity</h2>
        <ActivityList path="/user/activity" />
      </section>
    </div>
  );
}
