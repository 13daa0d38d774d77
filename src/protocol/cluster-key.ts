/** The header a node sends with node-to-node HTTP requests (edges pulling /<stream>/mpegts): cluster.cluster_key. */
export const CLUSTER_KEY_HEADER = 'x-flux-cluster-key';
