import type { LiveCallSnapshot, LiveTurn } from '../../../web/src/api/live-types';
import { applyLiveEvent, applyLiveEvents, applySnapshot, MAX_TURNS, mergeTurns } from '../../../web/src/pages/live/live-state';

const call = (callSid: string, turns: LiveTurn[] = []): LiveCallSnapshot => ({ callSid, agentId: 'support', direction: 'inbound', from: '+14155550123', to: '+14155550100', startedAt: '2026-12-02T10:00:00.000Z', instanceId: 'i1', turns });
const turn = (seq: number, text = `t${seq}`): LiveTurn => ({ seq, role: seq % 2 ? 'caller' : 'agent', text, language: 'en', startMs: seq * 1000, endMs: seq * 1000 + 500 });

/** The live page's state: SSE events and the snapshot merged per the live API's protocol (no replay, turns by seq). */
describe('live calls page state', () => {
  it('applies each turn once, in seq order, keeping the last MAX_TURNS', () => {
    expect(mergeTurns([turn(1), turn(3)], [turn(2), turn(3, 'again')]).map((t) => [t.seq, t.text])).toEqual([[1, 't1'], [2, 't2'], [3, 'again']]);
    const many = Array.from({ length: MAX_TURNS + 5 }, (_, i) => turn(i + 1));
    expect(mergeTurns([], many).map((t) => t.seq)).toEqual(many.slice(5).map((t) => t.seq));
  });

  it('adds a started call, appends its turns, drops a turn of an unknown call and removes an ended call', () => {
    let s = applyLiveEvent(new Map(), { type: 'call.started', call: call('CA1') });
    s = applyLiveEvent(s, { type: 'call.turn', callSid: 'CA1', turn: turn(1) });
    const before = s;
    expect(applyLiveEvent(s, { type: 'call.turn', callSid: 'CA9', turn: turn(1) })).toBe(before);
    expect(s.get('CA1')!.turns.map((t) => t.text)).toEqual(['t1']);
    s = applyLiveEvent(s, { type: 'call.ended', callSid: 'CA1', reason: 'hangup', endedAt: '2026-12-02T10:01:00.000Z' });
    expect(s.size).toBe(0);
  });

  it('merges a snapshot loaded after the stream opened without losing streamed turns or reviving ended calls', () => {
    let s = applyLiveEvent(new Map(), { type: 'call.started', call: call('CA1') });
    s = applyLiveEvent(s, { type: 'call.turn', callSid: 'CA1', turn: turn(3) });
    s = applySnapshot(s, [call('CA1', [turn(1), turn(2)]), call('CA2', [turn(1)]), call('CA3')], new Set(['CA3']));
    expect([...s.keys()]).toEqual(['CA1', 'CA2']);
    expect(s.get('CA1')!.turns.map((t) => t.seq)).toEqual([1, 2, 3]);
  });

  it('applies a batch with one copy: untouched calls keep their object, a batch changing nothing returns the same map', () => {
    const start = applySnapshot(new Map(), [call('CA1', [turn(1)]), call('CA2', [turn(1)]), call('CA3')], new Set());
    const s = applyLiveEvents(start, [
      { type: 'call.turn', callSid: 'CA1', turn: turn(2) },
      { type: 'call.turn', callSid: 'CA1', turn: turn(3) },
      { type: 'call.ended', callSid: 'CA3', reason: 'hangup', endedAt: '2026-12-02T10:01:00.000Z' },
      { type: 'call.started', call: call('CA4') },
      { type: 'call.turn', callSid: 'CA4', turn: turn(1) },
    ]);
    expect([...s.keys()]).toEqual(['CA1', 'CA2', 'CA4']);
    expect(s.get('CA1')!.turns.map((t) => t.seq)).toEqual([1, 2, 3]);
    expect(s.get('CA1')!.turns[0]).toBe(start.get('CA1')!.turns[0]); // a rendered turn keeps its object (memoized row)
    expect(s.get('CA2')).toBe(start.get('CA2'));
    expect(s.get('CA4')!.turns.map((t) => t.seq)).toEqual([1]);
    expect(start.size).toBe(3); // the previous state is not modified
    const unchanged = [{ type: 'call.turn', callSid: 'CA9', turn: turn(1) }, { type: 'call.event', callSid: 'CA1', event: { type: 'barge_in', payload: {}, at: '2026-12-02T10:00:05.000Z' } }] as const;
    expect(applyLiveEvents(s, unchanged)).toBe(s);
  });
});
