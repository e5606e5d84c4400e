/** Labels and annotations LeEngine puts on what it creates in a cell. */
export const LABELS = {
  /** On the namespace, the Service, every Deployment and pod: the application's name. */
  application: 'leengine.io/application',
  /** On a version's Deployment and its pods: the version's name. */
  version: 'leengine.io/version',
  /** On everything LeEngine manages, so it never touches what it did not create. */
  managedBy: 'app.kubernetes.io/managed-by',
} as const;

export const MANAGED_BY = 'leengine';

/** Server-side apply field manager: LeEngine owns the fields it sets, nothing else. */
export const FIELD_MANAGER = 'leengine';

/** Annotations LeEngine reads and writes. */
export const ANNOTATIONS = {
  /** On a Deployment: hash of the version spec it was applied from (replicas aside). */
  specHash: 'leengine.io/spec-hash',
  /** On a pod: the ReplicaSet removes pods with the lowest cost first when scaling down. */
  deletionCost: 'controller.kubernetes.io/pod-deletion-cost',
} as const;
