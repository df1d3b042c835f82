"""Which public case announces each category of hidden case (never shipped: it names hidden categories).

``ANNOUNCED[section][category]`` lists public cases of ``section`` (functions registered with
``public_tests.framework.case``) that put a student in the same situation as the hidden cases
of that category: a student who passes them has seen every kind of input the grader uses.
The categories are those of ``assignments.numpy_nn.scenarios.categories(section)``.
"""

ANNOUNCED = {
    'sgd': {
        'multi-step optimizer runs': ['sgd_several_steps'],
    },
    'momentum': {
        'multi-step optimizer runs': ['momentum_ten_steps', 'momentum_state_per_parameter'],
        'default momentum (0.0)': ['momentum_default_is_zero'],
    },
    'relu': {
        'batch size 1': ['relu_batch_of_one'],
        'inputs with exact zeros': ['relu_inputs_with_zeros'],
        'all inputs negative': ['relu_all_negative'],
    },
    'softmax': {
        'batch size 1': ['softmax_batch_of_one'],
        'random inputs': ['softmax_gradient_check'],
        'one or two classes': ['softmax_one_and_two_classes'],
        'softmax with large inputs (+-1e4)': ['softmax_large_inputs', 'softmax_large_inputs_match_torch'],
    },
    'dense': {
        'batch size 1': ['dense_batch_of_one'],
        'random inputs': ['dense_gradient_check'],
        'multi-step layer gradients': ['dense_two_steps_gradient_check'],
    },
    'crossentropy': {
        'batch size 1': ['crossentropy_batch_of_one'],
        'one-hot labels': ['crossentropy_hand_computed', 'crossentropy_gradient_check'],
        'y_pred with zeros': ['crossentropy_zeros_in_prediction'],
        'soft labels': ['crossentropy_soft_labels'],
    },
    'convolve': {
        'batch size 1': ['convolve_is_not_cross_correlation', 'convolve_rectangular_kernel'],
        'non-square images': ['convolve_matches_torch_same'],
        '1x1 kernels': ['convolve_1x1_kernel'],
        '5x5 kernels': ['convolve_matches_torch_valid_and_full'],
        'rectangular kernels': ['convolve_rectangular_kernel'],
        'full convolution (padding k - 1)': ['convolve_matches_torch_valid_and_full'],
    },
    'conv2d': {
        'batch size 1': ['conv2d_batch_of_one_matches_torch'],
        'non-square images': ['conv2d_gradient_check', 'conv2d_matches_torch'],
        '1x1 kernels': ['conv2d_matches_torch'],
        '5x5 kernels': ['conv2d_matches_torch'],
        'multi-step layer gradients': ['conv2d_two_steps_match_torch'],
    },
    'pooling2d': {
        'batch size 1': ['pooling_batch_of_one_matches_torch'],
        'non-square images': ['max_pooling_matches_torch', 'avg_pooling_matches_torch'],
        'pool sizes 3 and 4': ['pooling_sizes_3_and_4_match_torch'],
        'pooling ties': ['max_pooling_ties_go_to_first_maximum'],
    },
    'batchnorm': {
        'running statistics over several steps, then inference': ['batchnorm_training_steps_then_inference',
                                                                  'batchnorm_running_statistics'],
    },
    'flatten': {
        'batch size 1': ['flatten_batch_of_one'],
        'non-square images': ['flatten_c_order', 'flatten_one_channel'],
        'random inputs': ['flatten_c_order'],
    },
    'dropout': {
        'fixed seeds, then inference': ['dropout_seeded_steps_then_inference'],
    },
}


def unannounced(hidden_categories, announced=ANNOUNCED):
    """[(section, category)] of hidden categories with no public case in ``announced``.

    ``hidden_categories`` maps a section to the categories of its hidden cases.
    """
    return [(section, category) for section, categories in hidden_categories.items()
            for category in sorted(set(categories)) if not announced.get(section, {}).get(category)]
