// Issue 4's real-packet must-shows, nftables mode (bodies in proxy-packets.ts).
import { describeProxyPackets } from './proxy-packets.js';

describeProxyPackets('nftables', 104);
