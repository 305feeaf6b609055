import { describe, expect, it } from 'vitest';
import type { Pod, PriorityClass } from '../../../src/api/types.js';
import { validatePriorityClass } from '../../../src/api/validation/scheduling.js';
import { admitPodPriority, systemPriorityClasses } from '../../../src/apiserver/registry/priority.js';

// PriorityClass validation and the Priority admission plugin's rules; the served resource
// and admission through a real API server are covered in test/integration/scheduler.

const pc = (name: string, value: number, extra: Partial<PriorityClass> = {}): PriorityClass => ({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value, ...extra });
const classes = (list: PriorityClass[]) => ({ get: async (n: string) => list.find((c) => c.metadata.name === n), list: async () => list });
const pod = (spec: Partial<Pod['spec']> = {}): Pod => ({ metadata: { name: 'p', namespace: 'default' }, spec: { containers: [{ name: 'c' }], ...spec } });

describe('PriorityClass validation', () => {
  it('reserves system- names and the range above one billion', () => {
    expect(validatePriorityClass(pc('high', 1000))).toEqual([]);
    for (const c of systemPriorityClasses()) expect(validatePriorityClass(c)).toEqual([]);
    expect(validatePriorityClass(pc('system-mine', 10)).map((e) => e.detail)).toContain("priority class names with 'system-' prefix are reserved");
    expect(validatePriorityClass(pc('huge', 2_000_000_000)).map((e) => e.field)).toContain('value');
    expect(validatePriorityClass(pc('bad', 1, { preemptionPolicy: 'Sometimes' as never })).map((e) => e.field)).toContain('preemptionPolicy');
    expect(validatePriorityClass(pc('high', 2000), pc('high', 1000)).map((e) => e.field)).toContain('value');
  });
});

describe('Priority admission', () => {
  it('resolves priorityClassName, the global default, or 0', async () => {
    const p1 = pod({ priorityClassName: 'high' });
    await admitPodPriority(p1, classes([pc('high', 1000, { preemptionPolicy: 'Never' })]));
    expect([p1.spec.priority, p1.spec.preemptionPolicy]).toEqual([1000, 'Never']);
    const p2 = pod();
    await admitPodPriority(p2, classes([pc('low', 5, { globalDefault: true }), pc('mid', 50, { globalDefault: true })]));
    expect([p2.spec.priorityClassName, p2.spec.priority]).toEqual(['mid', 50]);
    const p3 = pod();
    await admitPodPriority(p3, classes([pc('high', 1000)]));
    expect(p3.spec.priority).toBe(0);
  });

  it('refuses an unknown class and a priority that disagrees with the class', async () => {
    await expect(admitPodPriority(pod({ priorityClassName: 'nope' }), classes([]))).rejects.toThrow('pods "p" is forbidden: no PriorityClass with name nope was found');
    await expect(admitPodPriority(pod({ priorityClassName: 'high', priority: 7 }), classes([pc('high', 1000)]))).rejects.toThrow('the integer value of priority (7) must not be provided in pod spec');
  });
});
