/** The backends device-side/ provides (by module URL: the worker imports them, the control process never does). */
export { builtinAgentBackends } from './builtin-backends.js';
