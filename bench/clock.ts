export { wallMs } from '../local/clock';
