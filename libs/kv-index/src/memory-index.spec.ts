import { MemoryBlockIndex } from './index';
import { describeBlockIndexConformance } from './testing';

describeBlockIndexConformance('in memory', (keyer) => new MemoryBlockIndex({ keyer }));
