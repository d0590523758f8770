/**
 * What the harness adds to the report beyond Allure's own views: the per-scenario transfer timeline.
 */
export * from './timeline-model.js';
export * from './timeline-sources.js';
export * from './timeline-svg.js';
export { formatRunSummary, type RunSummary, type ScenarioRecord } from './run-summary-reporter.js';
export { isInfrastructureCode, scenarioOutcome, type ScenarioOutcome } from './outcome.js';
export { scenarioTimeline } from './scenario-timeline.js';
