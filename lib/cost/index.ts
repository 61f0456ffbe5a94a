/**
 * What a router costs on AWS: the requests one event causes and their price (see model.ts).
 */
export {
  batchFill,
  type CostBreakdown,
  type CostOptions,
  type CostPlan,
  type CostReport,
  costOf,
  deliveryRequests,
  type EventCost,
  entryEvents,
  followUpKey,
  publishRequests,
  type Requests,
  type RpcCost,
  SECONDS_PER_MONTH,
  subscriptionKey,
} from './model.ts';
export {
  type Assumptions,
  DEFAULT_ASSUMPTIONS,
  LIST_PRICES,
  type PriceOverrides,
  type Prices,
  parseOverrides,
  readOverrides,
  withOverrides,
} from './prices.ts';
export { renderCostJson, renderCostText } from './render.ts';
