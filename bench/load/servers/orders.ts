/** The example orders service, unprotected, or behind gatehouse's server interceptor when given gatehouse's address (argv[2]). Prints `PORT <n>`. */
import { startOrders } from '../../../examples/orders/server.js';

const orders = await startOrders({ listen: '127.0.0.1:0', gatehouse: process.argv[2] });
console.log(`PORT ${orders.port}`);
process.once('SIGTERM', () => void orders.close().then(() => process.exit(0)));
