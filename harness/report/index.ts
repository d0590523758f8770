/**
 * What the harness adds to the report beyond Allure's own views: the per-scenario transfer timeline.
 */
export * from './timeline-model.js';
export * from './timeline-sources.js';
export * from './timeline-svg.js';
