// Issue 4's real-packet must-shows, iptables mode (bodies in proxy-packets.ts).
import { describeProxyPackets } from './proxy-packets.js';

describeProxyPackets('iptables', 103);
