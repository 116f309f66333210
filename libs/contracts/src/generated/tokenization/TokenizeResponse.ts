// Original file: libs/contracts/proto/tokenization/tokenizer.proto


export interface TokenizeResponse {
  'input_ids'?: (number)[];
  'success'?: (boolean);
  'error_message'?: (string);
  /**
   * Character offsets, flattened: [start0, end0, start1, end1, ...].
   */
  'offset_pairs'?: (number)[];
}

export interface TokenizeResponse__Output {
  'input_ids': (number)[];
  'success': (boolean);
  'error_message': (string);
  /**
   * Character offsets, flattened: [start0, end0, start1, end1, ...].
   */
  'offset_pairs': (number)[];
}
